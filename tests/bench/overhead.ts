// CPU and memory of `sysmon run` at 1 sample/s, against an idle Deno process measured
// the same way in the same run (Deno's own floor). The window holds a fold (every 300 s),
// so that its CPU and memory count. `hourBench` (only when named: it takes 62 minutes) runs
// the tracer through a whole row group at 1/s, the most it ever holds, for its memory.
import { MAIN } from "../helpers.ts";
import { describeRss, residentMiB, type Rss } from "./memory.ts";
import { TRACER_V8_FLAGS, V8_FLAGS } from "../../src/tracer/v8_flags.ts";

const TICKS = 100; // USER_HZ

function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICKS; // utime + stime
}

const higher = (a: Rss, b: Rss) => (b.total > a.total ? b : a);

async function measure(args: string[], seconds: number, warmup: number) {
  // Max RSS from the start (a fold at the first write included), CPU after the warm-up.
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "null" })
    .spawn();
  let maxRss: Rss = { total: 0, anon: 0, file: 0, peak: 0, pss: 0, uss: 0 };
  for (let i = 0; i < warmup; i++) {
    await new Promise((r) => setTimeout(r, 1000)); // start-up and JIT settle
    maxRss = higher(maxRss, residentMiB(child.pid));
  }
  const c0 = cpuSeconds(child.pid);
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    maxRss = higher(maxRss, residentMiB(child.pid));
  }
  const perMin = ((cpuSeconds(child.pid) - c0) / seconds) * 60;
  const peak = residentMiB(child.pid).peak; // start-up included
  child.kill("SIGTERM");
  await child.status;
  return { perMin, maxRss, peak };
}

/** `sysmon run` as a user starts it (V8_FLAGS), or as serve starts its tracer child. */
const tracerArgs = (dir: string, interval: string, flags = V8_FLAGS) => [
  "run",
  "-A",
  flags,
  MAIN,
  "run",
  "-o",
  `${dir}/bench-${interval}.parquet`,
  "--sample-interval",
  interval,
  "--write-interval",
  "10",
  "--no-gpu",
  "--no-docker",
  "-q",
];

export async function overheadBench(seconds: number, warmup: number) {
  const dir = Deno.makeTempDirSync();
  const tracer = await measure(tracerArgs(dir, "1"), seconds, warmup);
  const child = await measure(tracerArgs(dir, "1", TRACER_V8_FLAGS), seconds, warmup);
  const idle = await measure(["eval", "setInterval(() => {}, 1000)"], 60, warmup);
  const procs = [...Deno.readDirSync("/proc")].filter((e) => /^\d+$/.test(e.name)).length;
  console.log(
    `overhead (${seconds} s at 1 Hz after ${warmup} s of warm-up, a fold included, GPU and ` +
      `Docker off, ${procs} processes):`,
  );
  console.log(
    `  sysmon run: ${tracer.perMin.toFixed(3)} CPU-s/min (target 0.3), max RSS ${
      describeRss(tracer.maxRss)
    } (target 64 MB = 61.0 MiB); peak with start-up (VmHWM) ${tracer.peak.toFixed(1)} MiB`,
  );
  console.log(
    `  as serve's tracer child (${TRACER_V8_FLAGS}): ${child.perMin.toFixed(3)} CPU-s/min, max ` +
      `${describeRss(child.maxRss)}`,
  );
  console.log(
    `  baseline idle deno: ${idle.perMin.toFixed(3)} CPU-s/min, max RSS ${
      describeRss(idle.maxRss)
    }; ratio ${(tracer.perMin / Math.max(idle.perMin, 0.001)).toFixed(1)}x CPU, ${
      (tracer.maxRss.total / idle.maxRss.total).toFixed(2)
    }x RSS`,
  );
  Deno.removeSync(dir, { recursive: true });
  return tracer;
}

/** Max resident memory over a whole row group at 1 sample/s (3,600 samples, 12 folds). */
export async function hourBench() {
  const dir = Deno.makeTempDirSync();
  const hour = await measure(tracerArgs(dir, "1"), 3700, 10);
  console.log(
    `tracer through a whole row group (3,710 s at 1 Hz, 12 folds, a seal): max RSS ${
      describeRss(hour.maxRss)
    } (target 64 MB = 61.0 MiB), peak with start-up (VmHWM) ${hour.peak.toFixed(1)} MiB, ${
      hour.perMin.toFixed(3)
    } CPU-s/min`,
  );
  Deno.removeSync(dir, { recursive: true });
}
