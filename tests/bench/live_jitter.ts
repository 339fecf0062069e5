// Sampling jitter of the live tracer (`LiveTracer`, a child process) while 20 HTTP clients
// hammer a CPU-heavy route of a Hono server in the same process, against the same tracer with
// no clients (baseline). For contrast it also measures a timer in the server's own event loop
// under the same load: the jitter sampling would have if it ran beside the requests.
//
//   deno run -A tests/bench/live_jitter.ts [seconds per phase, default 30]
import { Hono } from "hono";
import { LiveTracer } from "../../src/live/tracer.ts";

const INTERVAL_S = 0.5;
const CLIENTS = 20;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** A stand-in for a heavy query: ~20 ms of synchronous work and a 200 kB JSON answer. */
function heavy(): { points: number[] } {
  const end = performance.now() + 20;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 10_000; i++) x += Math.sin(i);
  return { points: Array.from({ length: 20_000 }, (_, i) => (i * x) % 1000) };
}

/** Lateness of a 100 ms timer in this process's event loop, until `signal` aborts. */
async function loopLateness(signal: AbortSignal): Promise<number[]> {
  const late: number[] = [];
  while (!signal.aborted) {
    const due = performance.now() + 100;
    await new Promise((r) => setTimeout(r, 100));
    late.push(performance.now() - due);
  }
  return late;
}

export async function liveJitterBench(seconds = 30) {
  const dir = Deno.makeTempDirSync({ prefix: "sysmon-jitter-" });
  const tracer = new LiveTracer();
  let phase: number[] | null = null;
  tracer.subscribe((r) => phase?.push(Math.abs(r.lateMs)));
  const app = new Hono();
  app.get("/heavy", (c) => c.json(heavy()));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/heavy`;
  try {
    await tracer.start({
      output: `${dir}/jitter.parquet`,
      sampleInterval: INTERVAL_S,
      writeInterval: 10,
      enableGpu: false,
      enableDocker: false,
      useUtc: false,
    });
    await new Promise((r) => setTimeout(r, 3000)); // start-up and JIT settle

    phase = [];
    const idleLoop = new AbortController();
    const idleLate = loopLateness(idleLoop.signal);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    idleLoop.abort();
    const baseline = phase;
    const baseLoop = await idleLate;

    phase = [];
    const stop = new AbortController();
    let requests = 0;
    const latencies: number[] = [];
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stop.signal.aborted) {
        const t0 = performance.now();
        const res = await fetch(url);
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        requests++;
      }
    });
    const busyLate = loopLateness(stop.signal);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stop.abort();
    await Promise.all(clients);
    const loaded = phase;
    const loadLoop = await busyLate;
    phase = null;

    const fmt = (v: number) => `${v.toFixed(1)} ms`;
    const b99 = percentile(baseline, 99);
    const l99 = percentile(loaded, 99);
    console.log(
      `live jitter (tracer child at ${INTERVAL_S} s, ${seconds} s per phase, ` +
        `${navigator.hardwareConcurrency} CPUs):\n` +
        `  baseline, no clients:  p50 ${fmt(percentile(baseline, 50))}  p99 ${fmt(b99)}  ` +
        `(${baseline.length} samples)\n` +
        `  ${CLIENTS} clients on /heavy:  p50 ${fmt(percentile(loaded, 50))}  p99 ${fmt(l99)}  ` +
        `(${loaded.length} samples; ${requests} requests, ` +
        `median ${fmt(percentile(latencies, 50))} each)\n` +
        `  ratio p99 loaded / baseline: ${(l99 / Math.max(b99, 0.1)).toFixed(2)} ` +
        `(target: p99 under 50 ms: ${l99 < 50 ? "met" : "NOT MET"})\n` +
        `  for contrast, a timer in the server's event loop: p99 ${
          fmt(percentile(baseLoop, 99))
        } ` +
        `idle, ${fmt(percentile(loadLoop, 99))} under load`,
    );
    return { baseline, loaded, baseLoop, loadLoop, requests };
  } finally {
    await tracer.stop();
    await server.shutdown();
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) await liveJitterBench(Number(Deno.args[0] ?? 30));
