// The files of one sysmon trace read as one (src/store/segments.ts names them): which files a
// trace or a directory view reads together, and which to leave out because another file
// holds their rows already (a piece merged into its segment and not deleted yet).
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { Refusal } from "../schema/refusal.ts";
import { listSegments, segmentGlob, segmentNumber } from "../store/segments.ts";

/** Where a file's rows are in its trace: global index of its first row (null: not said). */
export interface RowRange {
  /** The trace it belongs to (sysmon.trace_id; "" when it names none). */
  trace: string;
  first: number | null;
  rows: number;
}

/** A file's row range from its key-value metadata and its row count. */
export function rowRange(kv: Record<string, string>, rows: number): RowRange {
  const first = kv["sysmon.first_row"];
  return {
    trace: kv["sysmon.trace_id"] ?? "",
    first: first !== undefined && /^\d+$/.test(first) ? Number(first) : null,
    rows,
  };
}

/**
 * `items` (a trace's files, in number order) less each one whose rows lie inside another's
 * of the same trace, each with its global rows [first, end). A file that does not say where
 * its rows start follows the one before it.
 */
export function uncovered<T>(
  items: T[],
  range: (item: T) => RowRange,
): { item: T; first: number; end: number }[] {
  let next = 0;
  const all = items.map((item) => {
    const r = range(item);
    const first = r.first ?? next;
    next = first + r.rows;
    return { item, trace: r.trace, first, end: next };
  });
  const inside = (a: { first: number; end: number }, b: { first: number; end: number }) =>
    b.first <= a.first && a.end <= b.end;
  return all
    .filter((a, i) =>
      !all.some((b, j) =>
        j !== i && b.trace === a.trace && inside(a, b) && (!inside(b, a) || j < i)
      )
    )
    .map(({ item, first, end }) => ({ item, first, end }));
}

/**
 * The trace at `path` and its segments, in number order: `path` first (a missing or bad file
 * there is its reader's to report), unless it is missing while segments of it are there.
 */
export function segmentFiles(path: string): string[] {
  const segments = listSegments(path).filter((s) => s.n > 0).map((s) => s.path);
  if (segments.length > 0 && !present(path)) {
    throw new Refusal(
      "not_found",
      `${path} is missing, but ${segments.length} later file(s) of its trace are beside it ` +
        `(${basename(segments[0]!)}…): open ${segmentGlob(path)} to read them`,
    );
  }
  return [path, ...segments];
}

/** Files of a directory or glob view that one trace wrote (a lone file: a trace of its own). */
export interface ViewGroup {
  /** Names the group in the view's listing (it changes when the base comes or goes). */
  key: string;
  /** The trace's own path (`trace.parquet`), listed in the view or not. */
  base: string;
  /** In number order. */
  files: string[];
  /** Whether the base is in the view: then its journal is read, once. */
  journal: boolean;
}

/** A view's files grouped by trace (`trace.0001.parquet` goes with `trace.parquet`). */
export function groupTraces(files: string[]): ViewGroup[] {
  const byBase = new Map<string, string[]>();
  for (const f of files) {
    const base = baseOf(f);
    byBase.set(base, [...(byBase.get(base) ?? []), f]);
  }
  return [...byBase].map(([base, members]) => {
    const number = (f: string) => segmentNumber(base, basename(f)) ?? 0;
    const journal = members.includes(base);
    return {
      key: journal ? base : `${base} (segments)`,
      base,
      files: members.sort((a, b) => number(a) - number(b)),
      journal,
    };
  });
}

/** The trace a file belongs to: `trace.0001.parquet` → `trace.parquet`; any other, itself. */
export function baseOf(file: string): string {
  const m = /^(.+)\.\d{4,}\.parquet$/.exec(basename(file));
  if (!m) return file;
  const base = join(dirname(file), `${m[1]}.parquet`);
  return segmentNumber(base, basename(file)) !== null ? base : file;
}

/** Something is at `path` (a link, a FIFO: its reader says what is wrong with it). */
function present(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
