// The contract between the data layer (src/query/source.ts, DuckDB-WASM) and the pages and API.
// All instants are epoch milliseconds UTC.
import type { ProcessRecord } from "../schema/column_types.ts";

export type ColumnType = "timestamp" | "int" | "double" | "string" | "list";

export interface ColumnInfo {
  name: string;
  type: ColumnType;
  /** Unit from the file's metadata or sysmon's column table; null when unknown. */
  unit: string | null;
}

export interface TraceMeta {
  /** Path as given by the user. */
  file: string;
  format: "parquet" | "csv";
  /** "sysmon" when the file carries sysmon metadata, else "original" (the Python tool). */
  producer: "sysmon" | "original";
  rows: number;
  /** First and last sample, epoch ms UTC (null for an empty trace). */
  first: number | null;
  last: number | null;
  /** Columns in the file's order, after renaming `<name>_container_<m>` to `docker_<name>_<m>`. */
  columns: ColumnInfo[];
  /**
   * Zone of the stored timestamps: "UTC", an IANA zone, or null when the file does not say
   * (naive times of the original tool: the caller picks Local or UTC).
   */
  dataTimezone: string | null;
  /** Zone used to read naive timestamps in this answer (dataTimezone or the override). */
  sourceZone: string;
  host: string | null;
  sampleInterval: number | null;
  /** Raw key-value metadata (sysmon.* keys). */
  metadata: Record<string, string>;
  /** Things the user should know (e.g. "timestamps carry no zone; read as UTC"). */
  notices: string[];
}

export interface SeriesQuery {
  columns: string[];
  /** Range, epoch ms UTC inclusive; defaults to the whole trace. */
  start?: number;
  end?: number;
  /** Target number of x positions (about the chart's pixel width). */
  points: number;
  /** Override of the zone for naive timestamps ("UTC" or an IANA zone). */
  sourceZone?: string;
}

export interface SeriesResult {
  start: number;
  end: number;
  /** Raw rows inside the range. */
  rows: number;
  /** True when buckets were reduced (min and max of each bucket kept). */
  reduced: boolean;
  /** Shared x axis, epoch ms UTC, ascending. */
  t: number[];
  /** One array per requested column, aligned with t; null is a gap (-1 sentinels included). */
  series: Record<string, (number | null)[]>;
  /** Requested columns the file does not have. */
  missing: string[];
}

/** One process at one sample: the structs of the trace's `processes` column. */
export type { ProcessRecord as ProcessEntry } from "../schema/column_types.ts";

export interface TraceSource {
  /** The trace's meta: a copy, the caller's to change. */
  meta(sourceZone?: string): Promise<TraceMeta>;
  /** The meta itself, to read only, where a source keeps one (a file's: no copy per answer). */
  lentMeta?(sourceZone?: string): Promise<TraceMeta>;
  series(q: SeriesQuery): Promise<SeriesResult>;
  /** Raw rows of a range as CSV text chunks (header first). */
  exportCsv(
    q: { columns?: string[]; start?: number; end?: number; sourceZone?: string },
  ): AsyncIterable<string>;
  /** Per-process history at the sample nearest `at` (empty when the file has none). */
  processesAt(
    at: number,
    sourceZone?: string,
  ): Promise<{ at: number | null; processes: ProcessRecord[] }>;
  /**
   * The processes listed in a range (the `processes` column): each once, with when it was seen
   * and its peaks and sums; `recorded` is false when the trace has no such column.
   */
  processList(q: ProcessListQuery): Promise<ProcessList>;
  /** The values of the processes named, over a range, bucketed to about `points` positions. */
  processSeries(q: ProcessSeriesQuery): Promise<ProcessSeriesResult>;
  close(): Promise<void>;
}

/** What the process charts draw: CPU %, resident bytes, storage bytes/s (read + write), GPU bytes. */
export type ProcessMetric = "cpu" | "memory" | "io" | "gpu";

/** A process across samples: a PID reused by another program is another process. */
export interface ProcessKey {
  pid: number;
  name: string;
}

/** A process as a range of the trace lists it. */
export interface ProcessSummary extends ProcessKey {
  /** As at the last sample listing it. */
  user: string | null;
  cmdline: string | null;
  container: string | null;
  /** First and last sample listing it, epoch ms UTC. */
  first: number;
  last: number;
  /** Samples listing it. */
  samples: number;
  /** Per metric: the highest value, and the sum over its samples (null: never known). */
  peak: Record<ProcessMetric, number | null>;
  sum: Record<ProcessMetric, number | null>;
}

/** An order of processes: by a metric's peak or sum (highest first), or most recently seen. */
export type ProcessOrder = `${ProcessMetric}_${"peak" | "sum"}` | "last";

export interface ProcessListQuery {
  /** Range, epoch ms UTC inclusive; defaults to the whole trace. */
  start?: number;
  end?: number;
  sourceZone?: string;
  /** Only processes whose name or command line holds this text (any case), or this PID. */
  search?: string;
  /** Only these processes. */
  keys?: ProcessKey[];
  /** The first `limit` processes of each order, each process once. */
  orders: { by: ProcessOrder; limit: number }[];
}

export interface ProcessList {
  start: number;
  end: number;
  /** False when the trace has no per-process records (the original tool's files). */
  recorded: boolean;
  /** Processes that match (at least this many, where several files are merged). */
  total: number;
  /** In no particular order. */
  processes: ProcessSummary[];
}

/** A series of one process: the metrics, and what I/O and memory are made of. */
export type ProcessField = ProcessMetric | "read" | "write" | "threads";

export interface ProcessSeriesQuery {
  keys: ProcessKey[];
  start?: number;
  end?: number;
  /** About the chart's width: samples are bucketed to at most this many positions. */
  points: number;
  /** The bucket width (ms) instead, as the files of one trace share it. */
  width?: number;
  sourceZone?: string;
}

export interface ProcessSeriesResult {
  start: number;
  end: number;
  /** Samples in the range. */
  rows: number;
  /** Shared x axis, epoch ms UTC, ascending: each bucket's first sample. */
  t: number[];
  /** Per process asked, in that order: the highest value of each bucket (null: not listed). */
  series: (ProcessKey & { values: Record<ProcessField, (number | null)[]> })[];
}
