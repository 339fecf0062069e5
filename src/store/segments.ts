// The files of one Parquet trace. A trace is `trace.parquet`, then, once it holds a full row
// group (an hour at 1 Hz) or when a fold writes only its new rows, `trace.0001.parquet`,
// `trace.0002.parquet`, … beside it: each file is complete, none is rewritten once the trace
// has moved past it, and `trace.*parquet` names them all. The journal stays beside the first.
import fs from "node:fs";
import { basename, dirname, join } from "node:path";

/** Key-value metadata: the global index of a file's first row in its trace. */
export const FIRST_ROW_KEY = "sysmon.first_row";

export interface Segment {
  /** 0 for the trace's own path, then 1, 2, … */
  n: number;
  path: string;
  /** Bytes, when listed. */
  size: number;
}

/** `trace.parquet` → `trace`: what segment names start with. */
function stem(base: string): string {
  const name = basename(base);
  return name.endsWith(".parquet") ? name.slice(0, -".parquet".length) : name;
}

/** Segment `n` of the trace at `base` (0: `base` itself). */
export function segmentPath(base: string, n: number): string {
  if (n === 0) return base;
  return join(dirname(base), `${stem(base)}.${String(n).padStart(4, "0")}.parquet`);
}

/** The glob that names every file of the trace at `base` (`trace.*parquet`). */
export function segmentGlob(base: string): string {
  return join(dirname(base), `${stem(base)}.*parquet`);
}

/** The number of segment `name` (a file name) of the trace at `base`, or null. */
export function segmentNumber(base: string, name: string): number | null {
  if (name === basename(base)) return 0;
  const s = stem(base);
  if (!name.startsWith(`${s}.`) || !name.endsWith(".parquet")) return null;
  const digits = name.slice(s.length + 1, -".parquet".length);
  return /^\d{4,}$/.test(digits) && Number(digits) > 0 ? Number(digits) : null;
}

/** The trace's files on disk (regular files only), in order: `base` first when it exists. */
export function listSegments(base: string): Segment[] {
  let names: string[];
  try {
    names = fs.readdirSync(dirname(base));
  } catch {
    return [];
  }
  const out: Segment[] = [];
  for (const name of names) {
    const n = segmentNumber(base, name);
    if (n === null) continue;
    const path = n === 0 ? base : join(dirname(base), name);
    try {
      const st = Deno.statSync(path); // node:fs's Stats cost 6 KB of garbage each
      if (st.isFile) out.push({ n, path, size: st.size });
    } catch {
      // gone since the listing, or a dangling link: not part of the trace
    }
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Bytes of the trace's files; null when there is none. */
export function traceBytes(base: string): number | null {
  const files = listSegments(base);
  return files.length === 0 ? null : files.reduce((n, s) => n + s.size, 0);
}

/** Whether the trace at `base` has files beside it (segments). */
export function hasSegments(base: string): boolean {
  return listSegments(base).some((s) => s.n > 0);
}

/** Where a file's rows are in its trace: global index of its first row (null: not said). */
export interface RowRange {
  /** The trace it belongs to (sysmon.trace_id; "" when it names none). */
  trace: string;
  first: number | null;
  rows: number;
}

/** A file's row range from its key-value metadata and its row count. */
export function rowRange(kv: Record<string, string>, rows: number): RowRange {
  const first = kv[FIRST_ROW_KEY];
  return {
    trace: kv["sysmon.trace_id"] ?? "",
    first: first !== undefined && /^\d+$/.test(first) ? Number(first) : null,
    rows,
  };
}

/**
 * `items` (a trace's files, in number order) less each one whose rows lie inside another's
 * of the same trace (of two alike, the later), each with its global rows [first, end). A file
 * that does not say where its rows start follows the rows before it. The writer (store/
 * trace_files.ts) and the readers leave out the same files.
 */
export function uncovered<T>(
  items: T[],
  range: (item: T) => RowRange,
): { item: T; first: number; end: number }[] {
  let next = 0;
  const all = items.map((item) => {
    const r = range(item);
    const first = r.first ?? next;
    next = Math.max(next, first + r.rows);
    return { item, trace: r.trace, first, end: first + r.rows };
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
