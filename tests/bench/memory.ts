// A process's memory as a user's tools charge it: RSS (top, ps), PSS (smem: shared pages
// split between the processes mapping them), USS (private pages only: what exiting would free),
// from /proc/PID/status and /proc/PID/smaps_rollup.

export interface Rss {
  /** MiB, VmRSS. */
  total: number;
  /** Private memory not backed by a file (heaps, stacks), RssAnon. */
  anon: number;
  /** Pages of mapped files (the deno executable's above all), RssFile. */
  file: number;
  /** The most it ever held (VmHWM), start-up included. */
  peak: number;
  /** Proportional set size. */
  pss: number;
  /** Unique set size: Private_Clean + Private_Dirty. */
  uss: number;
}

export function residentMiB(pid: number | "self" = "self"): Rss {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rollup = readRollup(pid);
  const kib = (text: string, key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) / 1024;
  return {
    total: kib(status, "VmRSS"),
    anon: kib(status, "RssAnon"),
    file: kib(status, "RssFile"),
    peak: kib(status, "VmHWM"),
    pss: kib(rollup, "Pss"),
    uss: kib(rollup, "Private_Clean") + kib(rollup, "Private_Dirty"),
  };
}

function readRollup(pid: number | "self"): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  } catch {
    return ""; // a kernel before 4.14: PSS and USS read NaN
  }
}

/** "57.8 MiB RSS (PSS 55.1, USS 54.0; 20.9 private, 36.9 file pages)" */
export const describeRss = (r: Rss) =>
  `${r.total.toFixed(1)} MiB RSS (PSS ${r.pss.toFixed(1)}, USS ${r.uss.toFixed(1)}; ` +
  `${r.anon.toFixed(1)} private, ${r.file.toFixed(1)} file pages)`;
