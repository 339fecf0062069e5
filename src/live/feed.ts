// The newest samples of the live session, kept in memory so that open pages can append them
// to their charts without reading the file again: the tracer's rows as they are taken, or the
// rows another `sysmon run` adds to the followed file. The file lags behind (the tracer folds
// its journal into it every fold interval), so the feed keeps more than a fold interval of
// rows; a page that asks for rows older than the feed holds reloads instead.
import { instant, serverZone } from "../query/zone.ts";
import { breakHoles, holeLimit } from "../query/gaps.ts";
import { columnDef } from "../schema/columns.ts";
import type { LiveSession, SessionRow } from "./session.ts";
import type { ColumnInfo, SeriesResult, TraceMeta } from "../views/types.ts";

/** One sample: its instant (epoch ms UTC) and its numeric values by column. */
export interface FeedRow {
  t: number;
  values: Record<string, number | null>;
}

export interface LiveFeedOptions {
  /** Rows kept at most (default 6,000). */
  maxRows?: number;
  /** Rows older than this (ms before the newest) are dropped (default 6 minutes: more than
   * the longest fold interval, 300 s). */
  keepMs?: number;
  /** How long without a row the followed file counts as still growing (ms, default 30 s). */
  quietMs?: number;
}

/** The rows of the live session since it (re)started; see the module comment. */
export class LiveFeed {
  private list: FeedRow[] = [];
  private cols = new Set<string>();
  private key = "";
  private evictedTo = -Infinity;
  /** When the followed file last brought a row (Date.now()). */
  private lastArrival = -Infinity;
  private readonly off: () => void;
  private readonly maxRows: number;
  private readonly keepMs: number;
  private readonly quietMs: number;
  private readonly zone = serverZone();
  /** Changes when the rows start over (another trace, a reset): pages with older rows reload. */
  epoch = 1;

  constructor(readonly session: LiveSession, opts: LiveFeedOptions = {}) {
    this.maxRows = opts.maxRows ?? 6000;
    this.keepMs = opts.keepMs ?? 6 * 60_000;
    this.quietMs = opts.quietMs ?? 30_000;
    this.key = this.currentKey();
    this.off = session.subscribe((r) => this.push(r));
  }

  close() {
    this.off();
  }

  private currentKey(): string {
    return `${this.session.file}\0${this.session.generation}`;
  }

  /** Starts over when the session moved to other rows. */
  private sync() {
    const key = this.currentKey();
    if (key === this.key) return;
    this.key = key;
    this.list = [];
    this.cols = new Set();
    this.evictedTo = -Infinity;
    this.lastArrival = -Infinity;
    this.epoch++;
  }

  private push(r: SessionRow) {
    this.sync();
    // The tracer's rows carry the sample's own timestamp (naive local wall time unless --utc);
    // a followed file's rows come with their instant already.
    const t = r.sample !== undefined
      ? instant(r.row.timestamp, this.session.tracer.status().options?.useUtc ?? false, this.zone)
      : r.at;
    const last = this.list.at(-1);
    if (last && t <= last.t) return; // the same sample again, or out of order: keep the first
    const values: Record<string, number | null> = {};
    for (const k in r.row) {
      if (k === "timestamp") continue;
      const v = r.row[k];
      if (typeof v === "number") values[k] = Number.isFinite(v) ? v : null;
      else if (typeof v === "bigint") values[k] = Number(v);
      else if (v === null && columnDef(k)?.kind !== "string") values[k] = null;
      else continue;
      this.cols.add(k);
    }
    this.list.push({ t, values });
    if (r.sample === undefined) this.lastArrival = Date.now(); // the followed file grew
    let drop = 0;
    while (
      drop < this.list.length - 1 &&
      (this.list.length - drop > this.maxRows || this.list[drop]!.t < t - this.keepMs)
    ) drop++;
    if (drop > 0) {
      this.evictedTo = this.list[drop - 1]!.t;
      this.list.splice(0, drop);
    }
  }

  /** Every row held, oldest first. */
  rows(): FeedRow[] {
    this.sync();
    return this.list;
  }

  /** The rows newer than `since` (epoch ms). */
  after(since: number): FeedRow[] {
    this.sync();
    let lo = 0, hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.t <= since) lo = mid + 1;
      else hi = mid;
    }
    return this.list.slice(lo);
  }

  /** True when rows newer than `since` were dropped: a page that has only up to `since` reloads. */
  missed(since: number): boolean {
    this.sync();
    return since < this.evictedTo;
  }

  /** The numeric columns the rows have. */
  columns(): Set<string> {
    this.sync();
    return this.cols;
  }

  newest(): FeedRow | null {
    this.sync();
    return this.list.at(-1) ?? null;
  }

  /**
   * The longest step between samples drawn as a line (ms; gaps.ts): 3 sample intervals of the
   * tracer serve runs, else 3 × the median step of the rows held; null when unknown.
   */
  holeLimit(): number | null {
    this.sync();
    const running = this.session.tracer.running
      ? this.session.tracer.status().options?.sampleInterval
      : null;
    return holeLimit(running, this.list.map((r) => r.t));
  }

  /** Whether samples are coming in: the tracer runs, or the followed file grew lately. */
  active(): boolean {
    if (this.session.tracer.running) return true;
    return this.session.following !== null && Date.now() - this.lastArrival < this.quietMs;
  }
}

/**
 * Rows as a query answer over `columns`: every column present (null where a row lacks it), a
 * null position inside each step longer than `limit` ms (gaps.ts).
 */
export function rowsResult(
  rows: FeedRow[],
  columns: string[],
  limit: number | null = null,
): SeriesResult {
  const series: Record<string, (number | null)[]> = {};
  for (const c of columns) series[c] = rows.map((r) => r.values[c] ?? null);
  return breakHoles({
    start: rows[0]?.t ?? 0,
    end: rows.at(-1)?.t ?? 0,
    rows: rows.length,
    reduced: false,
    t: rows.map((r) => r.t),
    series,
    missing: [],
  }, limit);
}

/**
 * `a` then `b` (b later), as one answer; a column one of them lacks is null there; a null
 * position between them when they are more than `limit` ms apart (gaps.ts).
 */
export function joinResults(
  a: SeriesResult,
  b: SeriesResult,
  limit: number | null = null,
): SeriesResult {
  const series: Record<string, (number | null)[]> = {};
  const nulls = (n: number) => new Array<number | null>(n).fill(null);
  for (const c of new Set([...Object.keys(a.series), ...Object.keys(b.series)])) {
    series[c] = [...(a.series[c] ?? nulls(a.t.length)), ...(b.series[c] ?? nulls(b.t.length))];
  }
  const joint = a.t.length;
  return breakHoles(
    {
      start: a.start,
      end: Math.max(a.end, b.end),
      rows: a.rows + b.rows,
      reduced: a.reduced || b.reduced,
      t: [...a.t, ...b.t],
      series,
      missing: a.missing.filter((c) => !(c in b.series)),
    },
    limit,
    joint,
    joint + 1,
  );
}

/** Column descriptions of names the file does not describe (the feed's). */
export function feedColumnInfo(names: Iterable<string>): ColumnInfo[] {
  return [...names].map((name) => ({
    name,
    type: "double",
    unit: columnDef(name)?.unit ?? null,
  }));
}

/** What the page knows of a trace that is not in its file yet: the feed's rows alone. */
export function feedMeta(file: string, rows: FeedRow[], columns: Iterable<string>): TraceMeta {
  return {
    file,
    format: file.endsWith(".csv") ? "csv" : "parquet",
    producer: "sysmon",
    rows: rows.length,
    first: rows[0]?.t ?? null,
    last: rows.at(-1)?.t ?? null,
    columns: feedColumnInfo(columns),
    dataTimezone: null,
    sourceZone: "UTC",
    host: null,
    sampleInterval: null,
    metadata: {},
    notices: [],
  };
}
