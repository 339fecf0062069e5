// The shapes of columns and rows. Imports nothing: the column definitions (columns.ts) and
// the sources that define their own columns (GPU, Docker) all take their types from here.

/** "processes" is the one nested column: a list of ProcessRecord structs per sample. */
export type ColumnKind = "timestamp" | "int64" | "double" | "string" | "processes";

export interface ColumnDef {
  name: string;
  kind: ColumnKind;
  unit: string;
  help: string;
}

/**
 * One process at one sample, as stored in the `processes` column (a list of these structs).
 * The field names are the dashboard's (`ProcessEntry` in src/views/types.ts); see PROCESS_FIELDS.
 */
export interface ProcessRecord {
  pid: number;
  ppid: number | null;
  name: string;
  cmdline: string | null;
  user: string | null;
  cpu_percent: number | null;
  rss_bytes: number | null;
  threads: number | null;
  read_bytes_per_sec: number | null;
  write_bytes_per_sec: number | null;
  container: string | null;
  gpu_memory_bytes: number | null;
}

export type Value = number | string | null | ProcessRecord[];
/** One sample: column name → value. */
export type Row = Record<string, Value>;
