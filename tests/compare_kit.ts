// Traces for the comparison tests (compare_test.ts, browser_compare_test.ts).
import { columnDef, type ProcessRecord, type Row } from "../src/schema/columns.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";

/**
 * A trace of `n` samples every `step` ms (default 1000) from `t0`, recorded on `host`; `gpu`:
 * with a GPU; `containers`: Docker containers, their CPU at `cpu`+k for the k-th; `cores`: that
 * many per-core columns; `processes`: the processes of sample i; `zone` with `offsetH`:
 * recorded in that zone's local time (UTC+offsetH), as `run` without --utc writes it.
 */
export function writeTrace(
  path: string,
  host: string,
  t0: number,
  opts: {
    n?: number;
    step?: number;
    /** The interval the metadata names (default: `step`); a trace with holes names less. */
    interval?: number;
    gpu?: boolean;
    cpu?: number;
    id?: string;
    containers?: string[];
    zone?: string;
    offsetH?: number;
    cores?: number;
    processes?: (i: number) => ProcessRecord[];
  } = {},
): string {
  const utc = opts.zone === undefined;
  const shift = (opts.offsetH ?? 0) * 3_600_000;
  const trace = new ParquetTrace({ path, utc });
  const rows: Row[] = [];
  for (let i = 0; i < (opts.n ?? 60); i++) {
    const row: Row = {
      timestamp: (t0 + shift + i * (opts.step ?? 1000)) * 1000,
      cpu_busy_percent: (opts.cpu ?? 10) + (i % 5),
      sys_used: 4e9,
      sys_total: 8e9,
      system_process_count: 100 + i,
      system_thread_count: 300,
    };
    if (opts.gpu) row.gpu_0_utilization = 50 + (i % 10);
    for (let k = 0; k < (opts.cores ?? 0); k++) {
      row[`cpu_${k}_utilization`] = (opts.cpu ?? 10) + k + (i % 3);
    }
    if (opts.processes) row.processes = opts.processes(i);
    (opts.containers ?? []).forEach((name, k) => {
      row[`docker_${name}_cpu_percent`] = (opts.cpu ?? 10) + k;
      row[`docker_${name}_mem_percent`] = 20 + k;
      row[`docker_${name}_net_rx_bytes_per_sec`] = 1e6 * (k + 1);
    });
    rows.push(row);
  }
  trace.add(rows, (n) => columnDef(n)!);
  const id = opts.id ?? newTraceId();
  const meta = traceMetadata(
    { utc, sampleInterval: opts.interval ?? (opts.step ?? 1000) / 1000, traceId: id },
    trace.columns,
  );
  const zone: Record<string, string> = utc ? {} : { "sysmon.tz_name": opts.zone! };
  trace.fold({ ...meta, "sysmon.host": host, ...zone });
  return id;
}
