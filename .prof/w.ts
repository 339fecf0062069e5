import { ParquetSink } from "../tracer/parquet_sink.ts";
import { SystemSampler } from "../tracer/system.ts";
import process from "node:process";
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const s = new SystemSampler({ processes: { top: Number(Deno.args[0] ?? 10) } } as any);
s.sample();
await new Promise((r) => setTimeout(r, 300));
const base = s.sample();
console.log("processes in row:", Array.isArray(base.processes) ? base.processes.length : "none");
const dir = Deno.makeTempDirSync();
let now = 0, t = base.timestamp as number;
const sink = ParquetSink.open({ path: `${dir}/x.parquet`, utc: false, sampleInterval: 1, foldIntervalMs: 60_000, now: () => now });
let jour = 0, fold = 0, nj = 0, nf = 0;
for (let w = 0; w < 360; w++) {
  for (let i = 0; i < 10; i++) { t += 1e6; sink.add({ ...base, timestamp: t }); }
  now += 10_000;
  const c0 = cpu();
  sink.write();
  const d = cpu() - c0;
  if (w % 6 === 0) { fold += d; nf++; } else { jour += d; nj++; }
}
const rss = Math.round(Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) / 1024);
console.log(`rss ${rss} journal-only write ${(jour / nj).toFixed(1)} ms, write with fold ${(fold / nf).toFixed(1)} ms`);
