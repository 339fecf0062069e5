/**
 * sysmon's programmatic API.
 * @module
 */
export { collectSystemSnapshot, type SnapshotOptions } from "./tracer/snapshot.ts";
export {
  type MonitorHooks,
  type MonitorStatus,
  type MonitorSummary,
  monitorToParquet,
} from "./tracer/monitor.ts";
export { type MonitorOptions, UsageError } from "./tracer/options.ts";
export { OutputError, recoverJournal } from "./tracer/parquet_sink.ts";
export {
  type ColumnDef,
  columnDef,
  PROCESS_FIELDS,
  type ProcessRecord,
  type Row,
} from "./tracer/columns.ts";
export { hostRoots, ProcFs, type Roots } from "./tracer/proc/fs.ts";
