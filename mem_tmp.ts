import { ParquetSink } from "./tracer/parquet_sink.ts";
import { SystemSampler } from "./tracer/system.ts";
const base = new SystemSampler().sample();
let now = 0;
const dir = Deno.makeTempDirSync();
const sink = ParquetSink.open({
  path: `${dir}/x.parquet`,
  utc: false,
  sampleInterval: 1,
  foldIntervalMs: Number(Deno.env.get("FOLD")),
  now: () => now,
});
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) / 1024;
let t = base.timestamp as number;
const r0 = rss();
for (let s = 0; s < 3600; s += 10) {
  for (let i = 0; i < 10; i++) {
    t += 1e6;
    sink.add({ ...base, timestamp: t, sys_used: Math.random() * 1e9 });
  }
  now += 10_000;
  sink.write();
}
(globalThis as any).gc();
console.log(
  Deno.env.get("CODEC"),
  "rss start",
  r0.toFixed(1),
  "after 1h",
  rss().toFixed(1),
  "size",
  Deno.statSync(`${dir}/x.parquet`).size,
);
