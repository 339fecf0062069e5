// Where sampled rows go: a Parquet trace (with its journal) or a CSV file.
import type { Row } from "../schema/columns.ts";

export interface WriteReport {
  /** Rows safely on disk so far. */
  rowsWritten: number;
  /** Size of the output file in bytes (null before it exists). */
  fileBytes: number | null;
  /** Set when this write failed; rows are kept in memory and retried. */
  error: string | null;
}

export interface TraceSink {
  readonly path: string;
  add(row: Row): void;
  /** Makes the rows added so far durable. Never throws: failures are reported. */
  write(): WriteReport;
  /** Final write: leaves one complete file and nothing beside it. */
  close(): WriteReport;
  /** Adds `sysmon.*` metadata (GPU names, …), written with the next write. */
  annotate(extra: Record<string, string>): void;
}

export function fileSize(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch {
    return null;
  }
}

/** A short, user-facing description of a write failure. */
export function describeWriteError(path: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/os error 28|No space/i.test(msg)) return `disk full writing ${path}`;
  if (err instanceof Deno.errors.PermissionDenied) return `permission denied writing ${path}`;
  if (err instanceof Deno.errors.NotFound) return `directory of ${path} no longer exists`;
  return `cannot write ${path}: ${msg}`;
}
