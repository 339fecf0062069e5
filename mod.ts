/**
 * sysmon's programmatic API.
 * @module
 */
export { collectSystemSnapshot, type SnapshotOptions } from "./src/collect/snapshot.ts";
export {
  type MonitorHooks,
  type MonitorStatus,
  type MonitorSummary,
  monitorToParquet,
} from "./src/tracer/monitor.ts";
export type { MonitorOptions } from "./src/tracer/options.ts";
export { Refusal, type RefusalKind } from "./src/schema/refusal.ts";
export { OutputError, recoverJournal } from "./src/store/parquet_sink.ts";
export {
  type ColumnDef,
  columnDef,
  PROCESS_FIELDS,
  type ProcessRecord,
  type Row,
} from "./src/schema/columns.ts";
export { hostRoots, ProcFs, type Roots } from "./src/collect/proc/fs.ts";
