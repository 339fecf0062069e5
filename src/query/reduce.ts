// Reduces series to at most `points` x positions inside DuckDB, so that a million rows never
// cross into JavaScript: one GROUP BY over time buckets keeps each bucket's minimum and
// maximum (and when each happened), and a spike is never averaged away.
//
// The x axis is shared by every series of an answer (uPlot's column arrays, one `t`). M4
// proper puts each series' extremes at their own times, which a shared axis cannot hold
// without multiplying its length by the number of series. Here a bucket with two or more
// samples gets two x positions, the times of its first and last sample; each series puts
// its earlier extreme at the first and the later one at the second. An extreme is drawn at
// most one bucket (half the requested resolution) away from when it happened, while its
// value (the height of every peak and dip) is exact. A bucket with one sample gets one
// position. So the answer never has more than `points` positions, raw or reduced.
//
// Buckets are aligned to multiples of a rounded width (…, 2 s, 2.5 s, 3 s, 4 s, …) counted
// from the epoch, not to the start of the range: while a live trace grows, its buckets stay
// where they were (only the newest changes), so charts do not shimmer on every refresh. The
// rounding costs at most a quarter of the positions: an answer has 0.75 to 1 × `points`.
//
// Reading a column of a million rows costs DuckDB-WASM about 35 ms, so a tab of ten series
// over a whole long trace would take a third of a second on every refresh. A Summary keeps
// the same aggregates for fine buckets (a power of ten of ms, about 10,000 over the trace)
// of the columns asked for so far; a wide range is answered by merging them, plus a scan of
// the range's partial fine buckets at either end (none where the summary shows such a bucket
// wholly inside the range: a range reaching past the trace's first or last sample). A scan,
// however narrow, reads the whole timestamp column (about 90 ms for a million rows:
// DuckDB-WASM 1.28 does not skip row groups by a timestamp's statistics). Only a requested width
// that is a multiple of the summary's is merged (`canUseSummary`), so a fine bucket never
// straddles two requested ones and the answer is exactly what a scan of the file gives.
//
// Holes (gaps.ts): where two successive samples are more than 3 sample intervals apart, raw or
// reduced, the answer has one more position between them, null in every series. Reduced, the
// last sample of a bucket and the first of the next are compared (two samples of one bucket
// are not: a hole narrower than a bucket is narrower than the chart can show).
import type { Table } from "./engine.ts";
import { breakColumns, HOLE_STEPS, holeAt, holeLimit } from "./gaps.ts";
import type { SeriesResult } from "../views/types.ts";

/** Per-bucket aggregates, in time order. Values are NaN where a bucket has none (a gap). */
export interface Partials {
  /** Bucket number: floor(t / width). */
  b: Float64Array;
  n: Float64Array;
  /** First and last sample time of the bucket. */
  t0: Float64Array;
  t1: Float64Array;
  /** Per value column: minimum, maximum, and the time of each. */
  lo: Float64Array[];
  hi: Float64Array[];
  tlo: Float64Array[];
  thi: Float64Array[];
}

/** Aggregates of fine buckets over a whole trace, column by column as they are asked for. */
export interface Summary {
  width: number;
  /** Buckets (b, n, t0, t1) shared by all columns; per column its lo/hi/tlo/thi. */
  buckets: Pick<Partials, "b" | "n" | "t0" | "t1">;
  columns: Map<string, SummaryColumn>;
}

/** One column of a summary: per bucket its minimum, maximum and their times (NaN: none). */
export interface SummaryColumn {
  lo: Float64Array;
  hi: Float64Array;
  tlo: Float64Array;
  thi: Float64Array;
}

export interface ReduceInput {
  /** Runs a query (the engine's). */
  query: (sql: string) => Table;
  /**
   * A relation (a SELECT, without ORDER BY) of the rows from `start` to `end` (epoch ms,
   * inclusive): `t` (BIGINT, epoch ms) and the value columns `c0`, `c1`, … (null is a gap).
   */
  relation: (start: number, end: number) => string;
  /** Number of value columns. */
  columns: number;
  /** The range, epoch ms inclusive (it sets the bucket width). */
  start: number;
  end: number;
  /** Most x positions wanted (at least 4). */
  points: number;
  /**
   * Fine buckets of these columns (in order) over every row of the trace, when the caller
   * keeps them.
   */
  summary?: Summary | null;
  /** Names of the value columns in the summary, in the order of c0, c1, …. */
  names?: string[];
  /** The trace's sample interval (s), which says what a hole is; estimated when null. */
  interval?: number | null;
}

export interface Reduced {
  /** Rows in the range. */
  rows: number;
  reduced: boolean;
  t: number[];
  /** One array per value column, aligned with t. */
  values: (number | null)[][];
}

/** Bucket widths (ms): 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k, each at most 4/3 of the last. */
const WIDTHS = Array.from(
  { length: 14 },
  (_, k) => [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8].map((m) => Math.round(m * 10 ** k)),
).flat()
  .filter((w, i, all) => all.indexOf(w) === i);

/** The smallest rounded width that splits `span` ms into at most `buckets` buckets. */
export function bucketWidth(span: number, buckets: number): number {
  const raw = Math.max(1, Math.ceil(span / Math.max(1, buckets)));
  for (const w of WIDTHS) if (w >= raw) return w;
  return raw;
}

/** The bucket width of an answer of at most `points` positions over [start, end]. */
export function requestWidth(start: number, end: number, points: number): number {
  // floor(points / 2) buckets of two positions each, and one more: the range rarely starts
  // on a bucket boundary, so it touches one partial bucket at each end.
  return bucketWidth(end - start + 1, Math.floor(points / 2) - 1);
}

/** Buckets a summary of a trace spanning `span` ms aims at (fewer, never more). */
export const SUMMARY_BUCKETS = 20_000;

/** The summary width for a span: the smallest power of ten of ms giving ≤ SUMMARY_BUCKETS. */
export function summaryWidth(span: number): number {
  let w = 1;
  while (span / w > SUMMARY_BUCKETS) w *= 10;
  return w;
}

/**
 * Whether an answer of bucket `width` can be merged from a summary of width `fine` (a power
 * of ten): when it is a whole multiple, as every width of the ladder from 10 × fine up is,
 * and 2, 3, 4, 5, 6 and 8 × fine are.
 */
export function canUseSummary(width: number, fine: number): boolean {
  return width >= fine && width % fine === 0;
}

/** One pass over a relation: the aggregates of each bucket of `width`. */
export function aggregate(
  query: (sql: string) => Table,
  relation: string,
  columns: number,
  width: number,
): Partials {
  const cols = Array.from({ length: columns }, (_, i) => `c${i}`);
  const aggs = cols.map((c) =>
    `, min(${c}) AS lo_${c}, max(${c}) AS hi_${c}, ` +
    `arg_min(t, ${c})::DOUBLE AS tlo_${c}, arg_max(t, ${c})::DOUBLE AS thi_${c}`
  );
  const table = query(
    `SELECT b::DOUBLE AS b, count(*)::DOUBLE AS n, min(t)::DOUBLE AS t0,
            max(t)::DOUBLE AS t1${aggs.join("")}
     FROM (SELECT t // ${width} AS b, t${cols.map((c) => `, ${c}::DOUBLE AS ${c}`).join("")}
           FROM (${relation}))
     GROUP BY b ORDER BY b`,
  );
  return {
    b: floats(table, "b"),
    n: floats(table, "n"),
    t0: floats(table, "t0"),
    t1: floats(table, "t1"),
    lo: cols.map((c) => floats(table, `lo_${c}`)),
    hi: cols.map((c) => floats(table, `hi_${c}`)),
    tlo: cols.map((c) => floats(table, `tlo_${c}`)),
    thi: cols.map((c) => floats(table, `thi_${c}`)),
  };
}

/** Columns scanned for a summary gave other buckets than it has (the file changed). */
export class SummaryMismatch extends Error {
  constructor() {
    super("the summary's buckets differ from the file's");
  }
}

/** The summary without its buckets from index `end` on (copies). */
export function truncateSummary(s: Summary, end: number): Summary {
  const cut = (a: Float64Array) => a.slice(0, end);
  const columns = new Map<string, SummaryColumn>();
  for (const [name, c] of s.columns) {
    columns.set(name, { lo: cut(c.lo), hi: cut(c.hi), tlo: cut(c.tlo), thi: cut(c.thi) });
  }
  const { b, n, t0, t1 } = s.buckets;
  return { width: s.width, buckets: { b: cut(b), n: cut(n), t0: cut(t0), t1: cut(t1) }, columns };
}

/** The summary followed by `tail` (aggregates of its columns, in their order, after it). */
export function appendSummary(s: Summary, tail: Partials): Summary {
  const cat = (a: Float64Array, b: Float64Array) => {
    const out = new Float64Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const columns = new Map<string, SummaryColumn>();
  [...s.columns].forEach(([name, c], i) => {
    columns.set(name, {
      lo: cat(c.lo, tail.lo[i]!),
      hi: cat(c.hi, tail.hi[i]!),
      tlo: cat(c.tlo, tail.tlo[i]!),
      thi: cat(c.thi, tail.thi[i]!),
    });
  });
  const { b, n, t0, t1 } = s.buckets;
  return {
    width: s.width,
    buckets: { b: cat(b, tail.b), n: cat(n, tail.n), t0: cat(t0, tail.t0), t1: cat(t1, tail.t1) },
    columns,
  };
}

/** Adds columns to a summary (one scan of the whole trace for all of them). */
export function extendSummary(
  summary: Summary | null,
  query: (sql: string) => Table,
  relation: string,
  names: string[],
  width: number,
): Summary {
  const parts = aggregate(query, relation, names.length, width);
  const s: Summary = summary ?? {
    width,
    buckets: { b: parts.b, n: parts.n, t0: parts.t0, t1: parts.t1 },
    columns: new Map(),
  };
  if (parts.b.length !== s.buckets.b.length) throw new SummaryMismatch();
  names.forEach((name, i) => {
    s.columns.set(name, {
      lo: parts.lo[i]!,
      hi: parts.hi[i]!,
      tlo: parts.tlo[i]!,
      thi: parts.thi[i]!,
    });
  });
  return s;
}

/** Raw rows when they fit in `points`, else min and max per bucket (see above). */
export function reduceSeries(input: ReduceInput): Reduced {
  const { query, relation, columns, start, end, points } = input;
  const width = requestWidth(start, end, points);
  const summary = input.summary;
  let parts: Partials[];
  if (summary && input.names && canUseSummary(width, summary.width)) {
    // Fine buckets wholly inside the range come from the summary; the partial ones at
    // either end are scanned (a narrow range: a row group or two).
    const fine = summary.width;
    let first = Math.ceil(start / fine), last = Math.floor((end + 1) / fine) - 1;
    if (first > last) parts = [aggregate(query, relation(start, end), columns, fine)];
    else {
      // A partial fine bucket at either end needs no scan when the summary shows all its
      // samples inside the range (or none at all): the range reaches past the trace's first
      // or last sample, as "All" and "the last N minutes" do.
      let head = first * fine > start ? relation(start, first * fine - 1) : null;
      let tail = (last + 1) * fine <= end ? relation((last + 1) * fine, end) : null;
      const { b, t0, t1 } = summary.buckets;
      if (head !== null) {
        const i = lowerBound(b, first - 1);
        if (i === b.length || b[i] !== first - 1) head = null;
        else if (t0[i]! >= start) (head = null), first--;
      }
      if (tail !== null) {
        const i = lowerBound(b, last + 1);
        if (i === b.length || b[i] !== last + 1) tail = null;
        else if (t1[i]! <= end) (tail = null), last++;
      }
      // Both remaining ends in one scan (fine buckets before `first` and after `last`).
      const edges = [head, tail].filter((r) => r !== null);
      const ends = edges.length ? aggregate(query, edges.join(" UNION ALL "), columns, fine) : null;
      const middle = fromSummary(summary, input.names, first, last);
      parts = ends ? splitAround(ends, first, middle) : [middle];
    }
  } else parts = [aggregate(query, relation(start, end), columns, width)];
  const rows = parts.reduce((sum, p) => sum + p.n.reduce((a, n) => a + n, 0), 0);
  if (rows <= points) {
    const cols = Array.from({ length: columns }, (_, i) => `c${i}`);
    const raw = query(
      `SELECT t::DOUBLE AS t${cols.map((c) => `, ${c}::DOUBLE AS ${c}`).join("")}
       FROM (${relation(start, end)}) ORDER BY t`,
    );
    const t = Array.from(floats(raw, "t"));
    const values = cols.map((c) => nullable(floats(raw, c)));
    const broken = breakColumns(t, values, holeLimit(input.interval, t));
    return { rows, reduced: false, t: broken.t, values: broken.values };
  }
  const limit = holeLimit(input.interval) ?? estimatedLimit(parts);
  return { rows, reduced: true, ...emit(parts, columns, width, limit) };
}

/** Partials of the range's ends placed before and after the middle (by bucket number). */
function splitAround(ends: Partials, first: number, middle: Partials): Partials[] {
  const at = lowerBound(ends.b, first);
  return [slicePartials(ends, 0, at), middle, slicePartials(ends, at, ends.b.length)];
}

function slicePartials(p: Partials, from: number, to: number): Partials {
  const cut = (a: Float64Array) => a.subarray(from, to);
  return {
    b: cut(p.b),
    n: cut(p.n),
    t0: cut(p.t0),
    t1: cut(p.t1),
    lo: p.lo.map(cut),
    hi: p.hi.map(cut),
    tlo: p.tlo.map(cut),
    thi: p.thi.map(cut),
  };
}

/** The summary's buckets first..last (bucket numbers) of the named columns. */
function fromSummary(s: Summary, names: string[], first: number, last: number): Partials {
  const { b } = s.buckets;
  const from = lowerBound(b, first), to = lowerBound(b, last + 1);
  const cut = (a: Float64Array) => a.subarray(from, to);
  const cols = names.map((n) => s.columns.get(n)!);
  return {
    b: cut(b),
    n: cut(s.buckets.n),
    t0: cut(s.buckets.t0),
    t1: cut(s.buckets.t1),
    lo: cols.map((c) => cut(c.lo)),
    hi: cols.map((c) => cut(c.hi)),
    tlo: cols.map((c) => cut(c.tlo)),
    thi: cols.map((c) => cut(c.thi)),
  };
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A hole's limit from buckets when the trace's interval is unknown: HOLE_STEPS × the median
 * step from one bucket's last sample to the next one's first (successive samples), else the
 * median of the buckets' mean steps.
 */
function estimatedLimit(parts: Partials[]): number | null {
  const between: number[] = [], inside: number[] = [];
  let last = NaN;
  for (const p of parts) {
    for (let i = 0; i < p.b.length; i++) {
      if (!(p.n[i]! > 0)) continue;
      if (p.t0[i]! > last) between.push(p.t0[i]! - last);
      if (p.n[i]! >= 2) inside.push((p.t1[i]! - p.t0[i]!) / (p.n[i]! - 1));
      last = p.t1[i]!;
    }
  }
  const steps = (between.length > 0 ? between : inside).filter((d) => d > 0).sort((a, b) => a - b);
  return steps.length ? HOLE_STEPS * steps[steps.length >> 1]! : null;
}

/**
 * Merges partials (in time order) into buckets of `width` and lays out their positions; a
 * null position between two buckets more than `limit` ms apart (gaps.ts).
 */
function emit(parts: Partials[], columns: number, width: number, limit: number | null) {
  const t: number[] = [];
  const out: (number | null)[][] = Array.from({ length: columns }, () => []);
  // The bucket being merged: its time span and each column's extremes.
  let bucket = NaN, t0 = 0, t1 = 0;
  const lo = new Float64Array(columns), hi = new Float64Array(columns);
  const tlo = new Float64Array(columns), thi = new Float64Array(columns);
  const flush = () => {
    if (Number.isNaN(bucket)) return;
    const two = t1 > t0;
    t.push(t0);
    if (two) t.push(t1);
    for (let c = 0; c < columns; c++) {
      const series = out[c]!;
      const l = Number.isNaN(lo[c]!) ? null : lo[c]!, h = Number.isNaN(hi[c]!) ? null : hi[c]!;
      if (!two) series.push(l);
      else if (tlo[c]! <= thi[c]!) series.push(l, h);
      else series.push(h, l);
    }
  };
  for (const p of parts) {
    for (let i = 0; i < p.b.length; i++) {
      if (p.n[i] === 0) continue;
      const b = Math.floor(p.t0[i]! / width);
      if (b !== bucket) {
        flush();
        if (!Number.isNaN(bucket) && limit !== null && p.t0[i]! - t1 > limit) {
          t.push(holeAt(t1, p.t0[i]!, limit));
          for (const series of out) series.push(null);
        }
        bucket = b;
        t0 = p.t0[i]!;
        t1 = p.t1[i]!;
        lo.fill(NaN);
        hi.fill(NaN);
        tlo.fill(0);
        thi.fill(0);
      } else t1 = Math.max(t1, p.t1[i]!);
      for (let c = 0; c < columns; c++) {
        const l = p.lo[c]![i]!, h = p.hi[c]![i]!;
        if (!Number.isNaN(l) && !(l >= lo[c]!)) (lo[c] = l), (tlo[c] = p.tlo[c]![i]!);
        if (!Number.isNaN(h) && !(h <= hi[c]!)) (hi[c] = h), (thi[c] = p.thi[c]![i]!);
      }
    }
  }
  flush();
  return { t, values: out };
}

/** A DOUBLE column as a Float64Array, NaN where null. */
function floats(table: Table, name: string): Float64Array {
  const v = table.getChild(name);
  if (!v) return new Float64Array(0);
  const data = v.toArray() as Float64Array;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v.isValid(i) ? data[i]! : NaN;
  return out;
}

function nullable(a: Float64Array): (number | null)[] {
  return Array.from(a, (x) => (Number.isNaN(x) ? null : x));
}

/**
 * A value as the JSON answer carries it: integers exact, other numbers to 6 significant
 * digits (a chart and its tooltip never show more; the CSV export keeps every digit),
 * non-finite as a gap.
 */
export function compact(v: number | null): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  if (Number.isInteger(v)) return v;
  return Number(v.toPrecision(6));
}

/** An answer without rows over [start, end]. */
export const emptyResult = (start: number, end: number): SeriesResult => ({
  start,
  end,
  rows: 0,
  reduced: false,
  t: [],
  series: {},
  missing: [],
});
