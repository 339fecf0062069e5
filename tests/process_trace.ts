// A synthetic trace for the per-process tests: six steady processes at every sample (one PID
// used by two programs, one after the other), and a short-lived busy one (the burst) for 10
// samples in the middle, written by sysmon's Parquet writer.
import { columnDef, type ProcessRecord, type Row } from "../src/schema/columns.ts";
import { traceMetadata } from "../src/store/metadata.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";

export const T0 = Date.UTC(2026, 2, 1, 0, 0, 0); // ms
/** The short-lived process: samples [from, to) of the trace. */
export const BURST = { pid: 4242, name: "burst-xq7", from: 6000, to: 6010 };

export function proc(pid: number, name: string, cpu: number, rss: number, io = 0): ProcessRecord {
  return {
    pid,
    ppid: 1,
    name,
    cmdline: `/usr/bin/${name} --serve`,
    user: "root",
    cpu_percent: cpu,
    rss_bytes: rss,
    threads: 4,
    read_bytes_per_sec: io,
    write_bytes_per_sec: null,
    container: null,
    gpu_memory_bytes: null,
  };
}

/** Row i of a trace of `rows` samples, one a second from T0. */
export function processRow(i: number, rows = 10_000): Row {
  const list = [
    proc(100, "postgres", 20 + (i % 7), 400 * 2 ** 20),
    proc(101, "nginx", 5, 50 * 2 ** 20, 1000),
    proc(102, "python3", 30 + (i % 11), 900 * 2 ** 20),
    proc(103, "sshd", 1, 8 * 2 ** 20),
    proc(104, "cron", 0.5, 4 * 2 ** 20),
    i < rows / 2 ? proc(105, "worker", 10, 100 * 2 ** 20) : proc(105, "other", 2, 2 ** 20),
  ];
  if (i >= BURST.from && i < BURST.to) {
    list.unshift(proc(BURST.pid, BURST.name, 180, 30 * 2 ** 20, 5e7));
  }
  return { timestamp: (T0 + i * 1000) * 1000, cpu_busy_percent: 10, processes: list };
}

/** Writes rows [from, to) to `path` (a segment of the trace when `from` > 0). */
export function writeProcessTrace(
  path: string,
  from: number,
  to: number,
  opts: { rows?: number; extra?: (i: number) => ProcessRecord[] } = {},
) {
  const t = new ParquetTrace({ path, utc: true, rowGroupRows: 3600 });
  const rows: Row[] = [];
  for (let i = from; i < to; i++) {
    const r = processRow(i, opts.rows);
    (r.processes as ProcessRecord[]).push(...(opts.extra?.(i) ?? []));
    rows.push(r);
  }
  t.add(rows, (n) => columnDef(n)!);
  t.fold({
    ...traceMetadata({ utc: true, sampleInterval: 1, traceId: "p1" }, t.columns),
    "sysmon.first_row": String(from),
  });
}
