// Resident memory of a process from /proc/PID/status, split into private memory (heaps,
// stacks, copied pages) and pages of mapped files (the deno executable's above all).

export interface Rss {
  /** MiB. */
  total: number;
  anon: number;
  file: number;
  /** The most it ever held (VmHWM), start-up included. */
  peak: number;
}

export function residentMiB(pid: number | "self" = "self"): Rss {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const mib = (key: string) =>
    Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { total: mib("VmRSS"), anon: mib("RssAnon"), file: mib("RssFile"), peak: mib("VmHWM") };
}

/** "57.8 MiB (20.9 private, 36.9 file pages)" */
export const describeRss = (r: Rss) =>
  `${r.total.toFixed(1)} MiB (${r.anon.toFixed(1)} private, ${r.file.toFixed(1)} file pages)`;
