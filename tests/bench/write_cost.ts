// Per-write cost after 1 hour and after 24 hours of 1 s samples (history simulated),
// and the file size of a day. A write = journal append every 10 s; a fold every 300 s (the default).
import { ParquetSink } from "../../src/store/parquet_sink.ts";
import type { Row } from "../../src/schema/columns.ts";
import { SystemSampler } from "../../src/collect/system.ts";
import process from "node:process";
import { residentMiB } from "./memory.ts";
import { TRACER_V8_FLAGS as V8_FLAGS } from "../../src/tracer/v8_flags.ts";

/** Rows shaped like this machine's real ones, with realistic noise, one per second. */
export function rowMaker() {
  // The tracer's defaults: per-process recording on (the `processes` column, top 10).
  const sampler = new SystemSampler({ processes: { top: 10 } });
  sampler.sample();
  const base = sampler.sample();
  const procs = Array.isArray(base.processes) ? base.processes : [];
  const counters = Object.keys(base).filter((k) =>
    typeof base[k] === "number" && !k.includes("percent") && !k.includes("utilization") &&
    !k.endsWith("_per_sec") && Number.isInteger(base[k])
  );
  const state: Record<string, number> = {};
  for (const k of counters) state[k] = base[k] as number;
  let t = base.timestamp as number;
  let seed = 1;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  return (): Row => {
    t += 1_000_000;
    const row: Row = { ...base, timestamp: t };
    for (const k of counters) {
      state[k]! += Math.floor(rand() * rand() * 5000);
      row[k] = state[k]!;
    }
    for (const k of Object.keys(base)) {
      if (k.endsWith("_utilization") || k.endsWith("_percent")) {
        const total = 100 + Math.floor(rand() * 3);
        row[k] = (Math.floor(rand() * rand() * total) / total) * 100;
      } else if (k.endsWith("_per_sec")) row[k] = Math.floor(rand() * rand() * 50000) / 1.0003;
    }
    if (procs.length > 0) {
      row.processes = procs.map((p) => ({
        ...p,
        cpu_percent: Math.round(rand() * rand() * 1000) / 10,
        rss_bytes: (p.rss_bytes ?? 0) + Math.floor(rand() * 64) * 4096,
      }));
    }
    return row;
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs in its own process (so the figures are the writer's, not the bench's). */
function simulate(): { hour: Result; day: Result; size: number } {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/day.parquet`;
  const next = rowMaker();
  let now = 0;
  const sink = ParquetSink.open({
    path,
    utc: false,
    sampleInterval: 1,
    foldIntervalMs: 300_000,
    now: () => now,
  });
  const advance = (seconds: number) => {
    for (let s = 0; s < seconds; s += 10) {
      for (let i = 0; i < 10; i++) sink.add(next());
      now += 10_000;
      const r = sink.write();
      if (r.error) throw new Error(r.error);
    }
  };
  /** Average CPU ms per write over 30 minutes of writes (6 folds); RSS after a full GC. */
  const measure = (): Result => {
    const c0 = cpuMs();
    advance(1800);
    const ms = (cpuMs() - c0) / 180;
    (globalThis as unknown as { gc(): void }).gc();
    const m = Deno.memoryUsage();
    const r = residentMiB();
    return {
      ms,
      rss: r.total,
      anon: r.anon,
      heap: m.heapUsed / 2 ** 20,
      external: m.external / 2 ** 20,
    };
  };
  advance(3600 - 1800);
  const hour = measure();
  advance(86400 - 3600 - 1800 - 1800);
  const day = measure();
  sink.close();
  const size = Deno.statSync(path).size;
  Deno.removeSync(dir, { recursive: true });
  return { hour, day, size };
}

interface Result {
  ms: number;
  rss: number;
  anon: number;
  /** V8's live heap and memory held outside it by JS objects (typed arrays), after a GC. */
  heap: number;
  external: number;
}

export async function writeCostBench() {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      V8_FLAGS,
      import.meta.filename!,
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("write-cost simulation failed");
  const { hour, day, size } = JSON.parse(new TextDecoder().decode(out.stdout));
  console.log(
    "per-write cost (1 s samples, write every 10 s, fold every 300 s; history simulated):",
  );
  const mem = (r: Result) =>
    `RSS ${r.rss.toFixed(1)} MiB (private ${r.anon.toFixed(1)}; V8 heap ${
      r.heap.toFixed(1)
    }, external ${r.external.toFixed(1)})`;
  console.log(`  after 1 h: ${hour.ms.toFixed(2)} CPU-ms per write, ${mem(hour)}`);
  console.log(
    `  after 24 h: ${day.ms.toFixed(2)} CPU-ms per write, ${mem(day)}; ` +
      `ratio ${(day.ms / hour.ms).toFixed(2)}x CPU (target <= 2x), ${
        (day.rss / hour.rss).toFixed(2)
      }x RSS, ${(day.anon / hour.anon).toFixed(2)}x private`,
  );
  console.log(`file size of one day at 1 s: ${(size / 2 ** 20).toFixed(1)} MiB (target < 20 MB)`);
}

if (import.meta.main) console.log(JSON.stringify(simulate()));
