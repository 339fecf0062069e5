// The one place that names sysmon's columns, their types, units and meaning.
// Names of the original tool's columns are kept exactly (original-tracer-schema.md);
// sysmon's own columns carry their unit in the name. GPU and container columns are defined in
// gpu_columns.ts and docker_columns.ts and looked up from here. Families of columns (cores,
// GPUs, containers) are parsed from names by these modules only; values derived from a
// sample's columns (CPU busy, memory %) are in derived.ts.
import { dockerColumnDef } from "./docker_columns.ts";
import { gpuColumnDef, gpuColumnRank } from "./gpu_columns.ts";

export type { ColumnDef, ColumnKind, ProcessRecord, Row, Value } from "./column_types.ts";
import type { ColumnDef, ColumnKind, ProcessRecord, Row } from "./column_types.ts";

const col = (name: string, kind: ColumnKind, unit: string, help: string): ColumnDef => ({
  name,
  kind,
  unit,
  help,
});

/** A field of the `processes` structs: scalar kinds only. */
export interface ProcessFieldDef {
  name: keyof ProcessRecord;
  kind: "int64" | "double" | "string";
  unit: string;
  help: string;
}

/** The fields of each `processes` struct, in the order they are stored. */
export const PROCESS_FIELDS: readonly ProcessFieldDef[] = [
  { name: "pid", kind: "int64", unit: "", help: "process id (as this PID namespace sees it)" },
  { name: "ppid", kind: "int64", unit: "", help: "parent process id" },
  { name: "name", kind: "string", unit: "", help: "process name (comm, completed from argv[0])" },
  { name: "cmdline", kind: "string", unit: "", help: "command line, at most 256 characters" },
  { name: "user", kind: "string", unit: "", help: "real user (numeric when not in /etc/passwd)" },
  { name: "cpu_percent", kind: "double", unit: "percent", help: "CPU since the previous sample" },
  { name: "rss_bytes", kind: "int64", unit: "bytes", help: "resident memory" },
  { name: "threads", kind: "int64", unit: "count", help: "threads" },
  { name: "read_bytes_per_sec", kind: "double", unit: "bytes/s", help: "storage reads" },
  { name: "write_bytes_per_sec", kind: "double", unit: "bytes/s", help: "storage writes" },
  { name: "container", kind: "string", unit: "", help: "container name, when in one" },
  { name: "gpu_memory_bytes", kind: "int64", unit: "bytes", help: "GPU memory held" },
];

/** Cumulative counters; each has a `<name>_per_sec` rate column (null on the first row). */
export const COUNTERS: ColumnDef[] = [
  col("disk_read_bytes", "int64", "bytes", "bytes read, summed over whole disks"),
  col("disk_write_bytes", "int64", "bytes", "bytes written, summed over whole disks"),
  col("disk_read_count", "int64", "count", "read operations, summed over whole disks"),
  col("disk_write_count", "int64", "count", "write operations, summed over whole disks"),
  col("disk_busy_time", "int64", "ms", "time spent doing I/O, summed over whole disks"),
  col("net_bytes_sent", "int64", "bytes", "bytes sent, all interfaces"),
  col("net_bytes_recv", "int64", "bytes", "bytes received, all interfaces"),
  col("net_packets_sent", "int64", "count", "packets sent, all interfaces"),
  col("net_packets_recv", "int64", "count", "packets received, all interfaces"),
  col("net_errin", "int64", "count", "receive errors, all interfaces"),
  col("net_errout", "int64", "count", "transmit errors, all interfaces"),
  col("net_dropin", "int64", "count", "received packets dropped, all interfaces"),
  col("net_dropout", "int64", "count", "transmitted packets dropped, all interfaces"),
  col("context_switches", "int64", "count", "context switches since boot"),
  col("interrupts", "int64", "count", "interrupts serviced since boot"),
  col("swap_in_bytes", "int64", "bytes", "bytes swapped in since boot"),
  col("swap_out_bytes", "int64", "bytes", "bytes swapped out since boot"),
];

export const rateName = (counter: string) => `${counter}_per_sec`;

const CPU_CORE = /^cpu_(\d+)_utilization$/;
export const cpuColumnName = (i: number) => `cpu_${i}_utilization`;

/** The core a `cpu_<i>_utilization` column is of; null for any other name. */
export function cpuCoreIndex(name: string): number | null {
  const m = CPU_CORE.exec(name);
  const i = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(i) && cpuColumnName(i) === name ? i : null;
}

/** The per-core columns among `names`, in core order (cpu_2 before cpu_10). */
export function cpuCoreColumns(names: Iterable<string>): string[] {
  const cores: [number, string][] = [];
  for (const name of names) {
    const i = cpuCoreIndex(name);
    if (i !== null) cores.push([i, name]);
  }
  return cores.sort((a, b) => a[0] - b[0]).map((c) => c[1]);
}

/** A core column's short label: `cpu_3_utilization` → `cpu_3`. */
export const cpuCoreLabel = (name: string) => name.replace(/_utilization$/, "");

/** Pressure stall columns: `psi_<resource>_<some|full>_avg10_percent`. */
export const psiColumnName = (resource: "cpu" | "memory" | "io", stalled: "some" | "full") =>
  `psi_${resource}_${stalled}_avg10_percent`;

/**
 * Whether a column holds numbers: by its definition when sysmon defines it, else (the original
 * tool's columns) by its name's unit suffix.
 */
export function isNumericColumn(name: string): boolean {
  const def = columnDef(name);
  if (def) return def.kind === "int64" || def.kind === "double";
  return /(_per_sec|_percent|_bytes|_utilization|_count)$/.test(name);
}

/** Per-core placeholder: `cpu_<i>_utilization` columns sort here, in numeric order. */
const CPU_CORES = "cpu_<i>_utilization";

const ORDER: ColumnDef[] = [
  col(
    "timestamp",
    "timestamp",
    "",
    "wall time of the sample: local, or UTC with --utc (see metadata)",
  ),
  col("sys_total", "int64", "bytes", "MemTotal"),
  col("sys_used", "int64", "bytes", "total - free - buffers - cached (psutil semantics)"),
  col("sys_free", "int64", "bytes", "MemFree"),
  col(CPU_CORES, "double", "percent", "busy percent of logical CPU i since the previous sample"),
  col("total_open_files", "int64", "count", "open file descriptors summed over all processes"),
  col("max_files_process", "string", "", "name(pid) of the process with the most open files"),
  col("max_files_count", "int64", "count", "open file descriptors of that process"),
  col("fd_used", "int64", "count", "allocated file handles (/proc/sys/fs/file-nr)"),
  col("fd_max", "int64", "count", "/proc/sys/fs/file-max"),
  col("fd_usage_percent", "double", "percent", "fd_used / fd_max"),
  ...COUNTERS.slice(0, 13),
  col("system_process_count", "int64", "count", "processes"),
  col("system_thread_count", "int64", "count", "threads summed over processes"),
  ...COUNTERS.slice(0, 13).map((c) => rateDef(c)),
  col("cpu_busy_percent", "double", "percent", "all CPUs: busy percent since the previous sample"),
  col("cpu_user_percent", "double", "percent", "all CPUs: user time (guest excluded)"),
  col("cpu_nice_percent", "double", "percent", "all CPUs: niced user time"),
  col("cpu_system_percent", "double", "percent", "all CPUs: kernel time"),
  col("cpu_iowait_percent", "double", "percent", "all CPUs: idle waiting for I/O"),
  col("cpu_irq_percent", "double", "percent", "all CPUs: hard and soft interrupts"),
  col("cpu_steal_percent", "double", "percent", "all CPUs: stolen by the hypervisor"),
  col("cpu_idle_percent", "double", "percent", "all CPUs: idle"),
  col("load_1m", "double", "", "load average, 1 minute"),
  col("load_5m", "double", "", "load average, 5 minutes"),
  col("load_15m", "double", "", "load average, 15 minutes"),
  col("procs_running", "int64", "count", "runnable tasks (run queue)"),
  col("procs_blocked", "int64", "count", "tasks blocked on I/O"),
  ...COUNTERS.slice(13, 15),
  ...COUNTERS.slice(13, 15).map((c) => rateDef(c)),
  col("mem_available_bytes", "int64", "bytes", "MemAvailable"),
  col("mem_cached_bytes", "int64", "bytes", "Cached + SReclaimable"),
  col("mem_buffers_bytes", "int64", "bytes", "Buffers"),
  col("mem_dirty_bytes", "int64", "bytes", "Dirty"),
  col("swap_total_bytes", "int64", "bytes", "SwapTotal"),
  col("swap_used_bytes", "int64", "bytes", "SwapTotal - SwapFree"),
  ...COUNTERS.slice(15),
  ...COUNTERS.slice(15).map((c) => rateDef(c)),
  col("psi_cpu_some_avg10_percent", "double", "percent", "PSI: some tasks stalled on CPU, avg10"),
  col("psi_cpu_full_avg10_percent", "double", "percent", "PSI: all tasks stalled on CPU, avg10"),
  col("psi_memory_some_avg10_percent", "double", "percent", "PSI memory some, avg10"),
  col("psi_memory_full_avg10_percent", "double", "percent", "PSI memory full, avg10"),
  col("psi_io_some_avg10_percent", "double", "percent", "PSI io some, avg10"),
  col("psi_io_full_avg10_percent", "double", "percent", "PSI io full, avg10"),
  col("disk_util_percent", "double", "percent", "busiest whole disk: time busy with I/O"),
];

/** Per-process history: the last column, after GPUs and containers. */
export const PROCESSES_COLUMN: ColumnDef = col(
  "processes",
  "processes",
  "",
  "top processes by CPU and by memory at this sample (the union of the top N of each, " +
    "--top-processes): a list of structs with the fields of PROCESS_FIELDS",
);
const PROCESSES_RANK = 1e9;

function rateDef(c: ColumnDef): ColumnDef {
  const unit = c.unit === "ms" ? "ms/s" : `${c.unit}/s`;
  return col(rateName(c.name), "double", unit, `${c.help}, per second`);
}

const RANK = new Map(ORDER.map((c, i) => [c.name, i]));
const BY_NAME = new Map(ORDER.map((c) => [c.name, c]));

/** The definition of a column sysmon writes, or null for a name it does not know. */
export function columnDef(name: string): ColumnDef | null {
  const known = BY_NAME.get(name);
  if (known && name !== CPU_CORES) return known;
  if (name === PROCESSES_COLUMN.name) return PROCESSES_COLUMN;
  if (CPU_CORE.test(name)) return { ...BY_NAME.get(CPU_CORES)!, name };
  return gpuColumnDef(name) ?? dockerColumnDef(name);
}

/**
 * Sort key: the order of ORDER, cores in numeric order, then GPUs, then unknown names, and
 * `processes` last.
 */
export function columnRank(name: string): number {
  const r = RANK.get(name);
  if (r !== undefined) return r;
  if (name === PROCESSES_COLUMN.name) return PROCESSES_RANK;
  const m = CPU_CORE.exec(name);
  if (m) return RANK.get(CPU_CORES)! + Number(m[1]) / 1e6;
  const gpu = gpuColumnRank(name);
  if (gpu !== null) return ORDER.length + gpu;
  // Containers: one rank for all; the stable sort keeps the order they are collected in.
  if (dockerColumnDef(name) !== null) return ORDER.length + 1;
  return ORDER.length + 2;
}

/** 2^63: the first number beyond Parquet's INT64 (as a double, exact). */
const INT64_LIMIT = 2 ** 63;

/**
 * Whether a number can be stored in a column of this kind: finite, and within INT64 for
 * integer kinds. A reading that does not fit (a driver printing 1e23, a daemon reporting
 * 1e30 bytes) is stored as null: one bad value must never fail a write.
 */
export function fitsKind(kind: ColumnKind | ProcessFieldDef["kind"], v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (kind === "int64" || kind === "timestamp") return v >= -INT64_LIMIT && v < INT64_LIMIT;
  return true;
}

/**
 * Nulls the numbers of a row that do not fit their column (see fitsKind); returns the names
 * of the columns it nulled. Unknown columns are stored as doubles.
 */
export function fitRow(row: Row): string[] {
  const bad: string[] = [];
  for (const name in row) {
    const v = row[name];
    if (typeof v !== "number") continue;
    if (!fitsKind(columnDef(name)?.kind ?? "double", v)) {
      row[name] = null;
      bad.push(name);
    }
  }
  return bad;
}

/** Sorts definitions in column order (stable for unknown names). */
export function sortColumns(defs: ColumnDef[]): ColumnDef[] {
  return defs.map((d, i) => ({ d, i }))
    .sort((a, b) => columnRank(a.d.name) - columnRank(b.d.name) || a.i - b.i)
    .map((x) => x.d);
}
