// What per-process recording (the `processes` column) costs: with ~300 processes running
// (sleepers and a few part-time busy ones), one child Deno process (V8 flags as the tracer
// runs) samples /proc at 1 Hz with two samplers, per-process recording off (the baseline)
// and on (top 10), taking turns in the same loop, and counts the CPU time of each.
//   deno run -A tests/bench/processes.ts [seconds]
import process from "node:process";
import { ProcFs } from "../../src/collect/proc/fs.ts";
import { SystemSampler } from "../../src/collect/system.ts";
import { TRACER_V8_FLAGS as V8_FLAGS } from "../../src/tracer/v8_flags.ts";

const TARGET_CPU_S_PER_MIN = 0.3;
const WARMUP_TICKS = 5;

interface ChildResult {
  ticks: number;
  processes: number;
  /** CPU seconds spent in sample(), each sampler. */
  offCpuS: number;
  onCpuS: number;
  onEntries: number;
}

/** CPU seconds (user + system) this process has used. */
function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The measuring loop, run in the child. */
async function measureLoop(seconds: number): Promise<ChildResult> {
  const fs = new ProcFs();
  const off = new SystemSampler({ fs });
  const on = new SystemSampler({ fs, processes: { top: 10 } });
  let offCpuS = 0, onCpuS = 0, onEntries = 0, ticks = 0;
  const start = performance.now();
  for (let k = 0; k < seconds + WARMUP_TICKS; k++) {
    const wait = start + k * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Take turns on who goes first, so neither always meets warm caches.
    const order = k % 2 ? [off, on] : [on, off];
    for (const s of order) {
      const c0 = cpuS();
      const row = s.sample();
      const spent = cpuS() - c0;
      if (k < WARMUP_TICKS) continue;
      if (s === on) (onCpuS += spent), (onEntries += (row.processes as unknown[]).length);
      else offCpuS += spent;
    }
    if (k >= WARMUP_TICKS) ticks++;
  }
  return { ticks, processes: fs.pids().length, offCpuS, onCpuS, onEntries };
}

/** Spawns the processes, runs the loop in a child Deno, prints the figures; returns them. */
export async function processesBench(seconds = 30) {
  const children: Deno.ChildProcess[] = [];
  const spawn = (cmd: string, args: string[]) =>
    children.push(new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).spawn());
  try {
    for (let i = 0; i < 295; i++) spawn("sleep", ["3600"]);
    // Part-time busy: a few percent of a CPU each, so CPU percentages change every sample.
    for (let i = 0; i < 5; i++) {
      spawn("sh", [
        "-c",
        "while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 0.2; done",
      ]);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", V8_FLAGS, new URL(import.meta.url).pathname, "--child", String(seconds)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`the measuring child failed (exit ${out.code})`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout)) as ChildResult;
    const perMin = (s: number) => (s / r.ticks) * 60;
    const off = perMin(r.offCpuS), on = perMin(r.onCpuS);
    console.log(
      `processes (${r.ticks} samples at 1 Hz after ${WARMUP_TICKS} of warm-up, ${r.processes} ` +
        `processes, the tracer's V8 flags; same process, same loop):`,
    );
    console.log(
      `  per-process recording on (top 10, ${(r.onEntries / r.ticks).toFixed(1)} processes a ` +
        `row): ${on.toFixed(3)} CPU-s/min; off (baseline): ${off.toFixed(3)} CPU-s/min`,
    );
    const per300 = ((on - off) / r.processes) * 300;
    console.log(
      `  added: ${(on - off).toFixed(3)} CPU-s/min for ${r.processes} processes, ` +
        `${
          per300.toFixed(3)
        } per 300 processes (target at most ${TARGET_CPU_S_PER_MIN} for 300); ` +
        `ratio ${(on / Math.max(off, 1e-6)).toFixed(2)}x the baseline`,
    );
    return {
      onCpuSPerMin: on,
      offCpuSPerMin: off,
      addedCpuSPerMin: on - off,
      addedPer300: per300,
      ...r,
    };
  } finally {
    await stopAll(children);
  }
}

async function stopAll(children: Deno.ChildProcess[]) {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // TypeError: it had exited already
    }
  }
  await Promise.all(children.map((c) => c.status));
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    console.log(JSON.stringify(await measureLoop(Number(Deno.args[1] ?? 30))));
  } else {
    await processesBench(Number(Deno.args[0] ?? 30));
  }
}
