// Summaries of long traces (reduce.ts), so that a long range is merged from buckets instead
// of scanned: the tracer's own (file_summary.ts), else one built per version and zone on
// first use, resumed from the previous version of a growing trace, and built ahead in the
// background (Warmer) between requests.
import type { ColumnInfo } from "../views/types.ts";
import { readFileSummary } from "./file_summary.ts";
import {
  aggregate,
  appendSummary,
  canUseSummary,
  extendSummary,
  type Summary,
  SummaryMismatch,
  summaryWidth,
  truncateSummary,
} from "./reduce.ts";
import {
  boundsFor,
  type Carried,
  clockFor,
  type Column,
  relation,
  type Trace,
  valueSql,
  type Version,
} from "./version.ts";
import type { WallClock } from "./wall_clock.ts";

/** Traces shorter than this are always scanned: a summary would not pay for itself. */
export const SUMMARY_MIN_ROWS = 50_000;
/** Columns summarised per background step (about 0.4 s for 1,000,000 rows; requests wait). */
const WARM_BATCH = 4;
/** Warming steps run only after this long without a request. */
const WARM_QUIET_MS = 1000;

/**
 * The fine-bucket summary of a long trace with these columns, when an answer of bucket
 * `width` can be merged from it (reduce.ts).
 */
export function summaryFor(
  t: Trace,
  v: Version,
  clock: WallClock,
  cols: Column[],
  width: number,
): Summary | null {
  const file = cols.length > 0 ? fromFile(t, v, clock, cols) : null;
  if (file && canUseSummary(width, file.width)) return file;
  const fine = fineWidth(t, v, clock.zone);
  if (fine === null || cols.length === 0 || !canUseSummary(width, fine)) return null;
  return ensureSummary(t, v, clock, cols, fine);
}

/**
 * Hands the summaries of `old` to `next` when `next` looks like the same sysmon trace grown
 * by appending (same trace id, same first sample, no fewer rows): all but their last fine
 * bucket are kept, to be checked (same row count before it) and completed on first use.
 */
export function carryOver(old: Version, next: Version) {
  const id = old.metadata["sysmon.trace_id"];
  if (
    !id || next.metadata["sysmon.trace_id"] !== id || old.wMin !== next.wMin ||
    next.rows < old.rows || (old.wMax ?? 0) > (next.wMax ?? 0)
  ) return;
  for (const [zone, s] of old.summaries) {
    const last = s.buckets.b.length - 1;
    if (last < 1) continue;
    const keep = truncateSummary(s, last);
    const rows = keep.buckets.n.reduce((a, n) => a + n, 0);
    next.carried.set(zone, { summary: keep, from: s.buckets.b[last]! * s.width, rows });
  }
}

/** OpenOptions' `warm` and `warmFirst` (source.ts). */
type WarmOptions = { warm?: boolean; warmFirst?: (columns: ColumnInfo[]) => string[] };

/** Builds the summaries of a version for every numeric column, a few at a time between requests. */
export class Warmer {
  private readonly trace: Trace;
  private readonly opts: WarmOptions;
  /** The next step of building summaries in the background. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When a request last used the trace: warming waits for a quiet moment. */
  private lastUse = 0;

  constructor(trace: Trace, opts: WarmOptions) {
    this.trace = trace;
    this.opts = opts;
  }

  /** A request uses the trace now. */
  used() {
    this.lastUse = performance.now();
  }

  /** Starts on a new version (unless warming is off or the trace is short). */
  start(v: Version) {
    // The previous version's next step goes: left pending, it would clear the timer of this
    // one when it fired, and close() could then not cancel it.
    this.stop();
    const t = this.trace;
    if (this.opts.warm === false || v.rows < t.summaryMinRows) return;
    const zone = v.dataTimezone ?? t.defaultZone;
    const infos = v.columns.map((c) => ({ name: c.name, type: c.type, unit: c.unit }));
    const order = this.opts.warmFirst?.(infos) ?? [];
    const first = new Map(order.map((name, i) => [name, i]));
    const cols = v.columns.filter((c) => c.type === "int" || c.type === "double")
      .map((c, i) => ({ c, rank: first.get(c.name) ?? first.size + i }))
      .sort((a, b) => a.rank - b.rank)
      .map((x) => x.c);
    let next = 0;
    const step = () => {
      this.timer = null;
      if (v.retired || next >= cols.length) return;
      // Each step blocks for a few hundred ms (DuckDB-WASM is synchronous here): never while
      // the user's requests are coming in.
      if (performance.now() - this.lastUse < WARM_QUIET_MS) {
        this.timer = setTimeout(step, WARM_QUIET_MS);
        return;
      }
      const fine = fineWidth(t, v, zone);
      if (fine === null) return;
      // Nothing to build when the tracer's summary holds every column at least as finely.
      const file = next === 0 ? fromFile(t, v, clockFor(v, zone), cols) : null;
      if (file && file.width <= fine) return;
      try {
        ensureSummary(t, v, clockFor(v, zone), cols.slice(next, next + WARM_BATCH), fine);
      } catch (err) {
        // The same error reaches the user with their next request; warming just stops.
        v.notices.push(`summaries for long ranges are not ready: ${(err as Error).message}`);
        return;
      }
      next += WARM_BATCH;
      this.timer = setTimeout(step, 20);
    };
    this.timer = setTimeout(step, 0);
  }

  /** Cancels the next step. */
  stop() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * The tracer's summary (file_summary.ts) of `cols` in the clock's zone, or null: none in
 * the file, or blocks that do not fit the zone. Used however short the file is: reading
 * blocks costs less than a scan, and a trace of many hourly files (segments) is short files.
 */
function fromFile(_t: Trace, v: Version, clock: WallClock, cols: Column[]): Summary | null {
  if (!v.fileIndex || !v.fileRead) return null;
  let s = v.fileSummaries.get(clock.zone);
  if (s === undefined) {
    s = null;
    const numeric = v.columns.filter((c) => c.type === "int" || c.type === "double");
    try {
      const read = readFileSummary(v.fileIndex, v.fileRead, (w) => clock.toInstant(w), numeric);
      if (read && read.rows !== v.rows) {
        v.notices.push(
          `the file's summaries count ${read.rows} rows, not ${v.rows}; long ranges are scanned`,
        );
      } else s = read?.summary ?? null;
    } catch (err) {
      v.notices.push(
        `the file's summaries could not be read (${(err as Error).message}); ` +
          `long ranges are scanned`,
      );
    }
    v.fileSummaries.set(clock.zone, s);
  }
  return s && cols.every((c) => s.columns.has(c.name)) ? s : null;
}

/** The summary width of a version, or null when it is too short to need one. */
function fineWidth(t: Trace, v: Version, zone: string): number | null {
  if (v.rows < t.summaryMinRows) return null;
  const { first, last } = boundsFor(t, v, zone);
  return first === null || last === null ? null : summaryWidth(last - first + 1);
}

/**
 * The summary of `v` in the clock's zone holding `cols`: built on first use, per version
 * and zone; a summary carried over from the previous version of the same trace gets only
 * its tail rescanned.
 */
function ensureSummary(
  t: Trace,
  v: Version,
  clock: WallClock,
  cols: Column[],
  fine: number,
): Summary {
  const run = (sql: string) => t.run(sql);
  let s = v.summaries.get(clock.zone) ?? null;
  if (s && s.width !== fine) s = null;
  const carried = v.carried.get(clock.zone);
  if (!s && carried) {
    v.carried.delete(clock.zone);
    s = resume(t, v, clock, carried, fine);
  }
  const todo = cols.filter((c) => !s?.columns.has(c.name));
  if (todo.length > 0) {
    const rel = relation(v, clock, {
      sources: todo.map((c) => c.source),
      exprs: todo.map((c, i) => `${valueSql(c)} AS c${i}`),
    });
    const names = todo.map((c) => c.name);
    try {
      s = extendSummary(s, run, rel, names, fine);
    } catch (err) {
      if (!(err instanceof SummaryMismatch)) throw err;
      s = extendSummary(null, run, rel, names, fine); // start over with these columns
    }
    v.summaries.set(clock.zone, s);
  }
  return s!;
}

/**
 * The previous version's summary brought up to date: its buckets before `from` are kept
 * when the new version holds exactly the same rows before it (the tracer appended), and
 * the rest is scanned. Null when the rows differ.
 */
function resume(
  t: Trace,
  v: Version,
  clock: WallClock,
  c: Carried,
  fine: number,
): Summary | null {
  if (c.summary.width !== fine) return null;
  const before = relation(v, clock, { sources: [], exprs: [], end: c.from - 1 });
  const n = Number(
    t.run(`SELECT count(*)::DOUBLE AS n FROM (${before})`).getChild("n")!.get(0),
  );
  if (n !== c.rows) return null;
  const cols = [...c.summary.columns.keys()].map((name) => v.byName.get(name));
  if (cols.some((col) => !col)) return null;
  const rel = relation(v, clock, {
    sources: cols.map((col) => col!.source),
    exprs: cols.map((col, i) => `${valueSql(col!)} AS c${i}`),
    start: c.from,
  });
  const tail = aggregate((sql) => t.run(sql), rel, cols.length, fine);
  return appendSummary(c.summary, tail);
}
