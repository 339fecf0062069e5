// The files a trace already has on disk (segments.ts), as `run` finds them: whose they are,
// how many rows each holds, and the segment new rows go to. A segment holds at most a row
// group (an hour at 1 Hz): a file that holds one already, or one another tool wrote (DuckDB
// copies), is never rewritten; new rows start the next segment.
import { readFooter } from "./parquet_trace.ts";
import { listSegments, type RowRange, rowRange, segmentPath, uncovered } from "./segments.ts";
import { removeQuietly } from "./atomic.ts";

/** A problem with the output file that stops `run` before sampling starts. */
export class OutputError extends Error {}

export interface TraceFile {
  n: number;
  path: string;
  rows: number;
  /** Index of its first row in the whole trace. */
  first: number;
}

export interface TraceFiles {
  /** The sysmon.* metadata of the trace (its first file's). */
  kv: Map<string, string>;
  files: TraceFile[];
  /** Rows in all files. */
  rows: number;
  /** What was done to the files (a leftover piece removed), for the user. */
  notices: string[];
}

/**
 * The trace at `base` as it is on disk (null: no file yet). Refuses files sysmon did not
 * write or that belong to another trace. A piece whose rows a merged segment holds as well
 * (a run killed between the two steps of a merge) is removed.
 */
export function traceFiles(base: string): TraceFiles | null {
  const found = listSegments(base);
  if (found.length === 0) return null;
  let kv: Map<string, string> | null = null;
  const read: { n: number; path: string; range: RowRange }[] = [];
  for (const s of found) {
    const { meta } = footerOf(s.path);
    const mine = new Map((meta.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
    if (!mine.has("sysmon.trace_id")) {
      throw new OutputError(
        `${s.path} exists and was not written by sysmon; sysmon appends only to its own ` +
          `traces. Choose another --output or move the file away`,
      );
    }
    if (kv && mine.get("sysmon.trace_id") !== kv.get("sysmon.trace_id")) {
      throw new OutputError(
        `${s.path} belongs to another trace than ${found[0]!.path}; move it away or choose ` +
          `another --output`,
      );
    }
    kv ??= mine;
    read.push({ n: s.n, path: s.path, range: rowRange(Object.fromEntries(mine), num(meta)) });
  }
  // The files whose rows another holds (a piece merged, not yet deleted): as readers skip them.
  const files: TraceFile[] = uncovered(read, (f) => f.range)
    .map(({ item, first, end }) => ({ n: item.n, path: item.path, first, rows: end - first }));
  const notices: string[] = [];
  for (const f of read) {
    if (files.some((k) => k.path === f.path)) continue;
    const at = f.range.first ?? 0;
    const holder = files.find((k) => k.first <= at && at + f.range.rows <= k.first + k.rows);
    removeQuietly(f.path);
    notices.push(
      `${f.path}: its rows are in ${holder?.path ?? "another file"} already; removed it`,
    );
  }
  const rows = Math.max(0, ...files.map((f) => f.first + f.rows));
  return { kv: kv!, files, rows, notices };
}

const num = (meta: { num_rows: bigint | number }) => Number(meta.num_rows);

/** The footer of `path`, or an OutputError saying what is wrong with it. */
function footerOf(path: string) {
  try {
    return readFooter(path);
  } catch (err) {
    throw new OutputError(
      `${path} exists and is not a readable Parquet file (${(err as Error).message}); ` +
        `choose another --output or move it away`,
    );
  }
}

/** Where new rows go: the last file while it holds less than a row group, else a new one. */
export function nextSegment(
  base: string,
  found: TraceFiles | null,
  rowGroupRows: number,
): { n: number; path: string; continues: boolean; before: number } {
  const last = found?.files.at(-1);
  if (!last) return { n: 0, path: base, continues: false, before: found?.rows ?? 0 };
  if (last.rows < rowGroupRows && last.first + last.rows === found!.rows) {
    return { n: last.n, path: last.path, continues: true, before: last.first };
  }
  return {
    n: last.n + 1,
    path: segmentPath(base, last.n + 1),
    continues: false,
    before: found!.rows,
  };
}
