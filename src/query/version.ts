// One version of a trace file as registered in DuckDB (its columns, zone, counts and what was
// computed from it), and what every query of a version shares: the zone that reads its
// timestamps, its first and last sample, and the SQL of its rows in a range.
//
// Time. Every answer is epoch ms UTC. Instants (sysmon --utc, pandas tz-aware, CSV text with
// an offset) need nothing. Naive wall times are read in the source zone: the file's own
// (`sysmon.tz_name` when `sysmon.timezone` is "local"), else the caller's override, else this
// server's zone (with a notice), through a WallClock (wall_clock.ts); a notice names wall
// times that occur twice.
import { Refusal } from "../schema/refusal.ts";
import type { ColumnType } from "../views/types.ts";
import type { SummaryIndex } from "../store/summary_block.ts";
import { type Engine, ident, literal, type Table } from "./engine.ts";
import type { ReadAt } from "./file_summary.ts";
import type { Summary } from "./reduce.ts";
import { WallClock } from "./wall_clock.ts";
import { resolveZone } from "./zone.ts";

/** What the functions over a version need of the trace it belongs to (source.ts). */
export interface Trace {
  /** The file, as messages name it. */
  readonly path: string;
  readonly engine: Engine;
  /** Zone of naive timestamps when neither the file nor the caller names one. */
  readonly defaultZone: string;
  /** Traces with fewer rows are always scanned (summaries.ts). */
  readonly summaryMinRows: number;
  /** Bytes of the footer of the version being read (a CSV's: Infinity); see source.ts run(). */
  footerBytes: number;
  /** Runs one query; DuckDB's failure is a Refusal naming the file. */
  run(sql: string): Table;
}

export interface Column {
  /** Name the dashboard uses (after renaming old container columns). */
  name: string;
  /** Name in the file. */
  source: string;
  /** DuckDB's type of it. */
  duck: string;
  type: ColumnType;
  unit: string | null;
  /** -1 means "could not read" (the original tool's numeric columns). */
  sentinel: boolean;
  /** A list stored as JSON text (`processes` in sysmon's CSV). */
  json: boolean;
}

export interface Version {
  /** Identity of the file read (and its CSV sidecar): inode, size, mtime. */
  key: string;
  /** Registered Parquet (a CSV is converted once per version). */
  name: string;
  format: "parquet" | "csv";
  producer: "sysmon" | "original";
  /** sysmon.* key-value metadata. */
  metadata: Record<string, string>;
  columns: Column[];
  byName: Map<string, Column>;
  /** DuckDB's type of the `timestamp` column. */
  tsType: string;
  /** "UTC" for instants, the zone of naive times when the file names one, else null. */
  dataTimezone: string | null;
  rows: number;
  /** Smallest and largest stored timestamp, epoch ms as stored (naive or UTC). */
  wMin: number | null;
  wMax: number | null;
  sampleInterval: number | null;
  notices: string[];
  clocks: Map<string, WallClock>;
  bounds: Map<string, { first: number | null; last: number | null }>;
  /** Fine-bucket summaries by zone (reduce.ts). */
  summaries: Map<string, Summary>;
  /** Summaries of the previous version of the same trace, to resume (summaries.ts). */
  carried: Map<string, Carried>;
  /** Where the tracer's summary blocks are (sysmon.summary), and how to read them. */
  fileIndex: SummaryIndex | null;
  fileRead: ReadAt | null;
  /** The blocks merged, by zone, once read (null: none usable). */
  fileSummaries: Map<string, Summary | null>;
  /** The descriptor that pins the version's file (read in place), or null. */
  fd: number | null;
  users: number;
  retired: boolean;
}

/** A summary of the previous version, and what the new one must match to resume it. */
export interface Carried {
  summary: Summary;
  /** Instant (ms) from which the new version is rescanned: the old last fine bucket's start. */
  from: number;
  /** Rows of the old version before `from`. */
  rows: number;
}

/** The zone that reads this version's timestamps, and what the user should know. */
export function zoneFor(
  t: Trace,
  v: Version,
  override?: string,
): { zone: string; notices: string[] } {
  const asked = override ? resolveZone(override) : null;
  const notices: string[] = [];
  let zone: string;
  if (v.dataTimezone) {
    zone = v.dataTimezone;
    if (asked && asked !== zone) {
      notices.push(
        `${t.path} records its times in ${zone}; the source zone ${asked} does not apply`,
      );
    }
  } else {
    zone = asked ?? t.defaultZone;
    // A zone chosen is said as chosen; UTC is suggested only where it would change something.
    notices.push(
      `Timestamps in ${t.path} carry no time zone; they are read as ${zone}` +
        (asked
          ? `.`
          : zone === "UTC"
          ? ` (this server's zone).`
          : ` (this server's zone). Choose UTC as the data time zone if the trace was ` +
            `recorded in UTC (--utc).`),
    );
  }
  if (v.wMin !== null && v.wMax !== null) {
    for (const r of clockFor(v, zone).repeated) {
      if (r.to <= v.wMin || r.from > v.wMax) continue;
      notices.push(
        `Wall times from ${wallText(r.from)} to ${wallText(r.to)} occur twice in ${zone} ` +
          `(daylight saving time ended); samples at those times are placed at the first ` +
          `occurrence.`,
      );
    }
  }
  return { zone, notices };
}

/** The version's wall clock in `zone` (computed once per version and zone). */
export function clockFor(v: Version, zone: string): WallClock {
  let c = v.clocks.get(zone);
  if (!c) {
    const now = Date.now();
    c = WallClock.of(zone, v.wMin ?? now, v.wMax ?? now);
    v.clocks.set(zone, c);
  }
  return c;
}

/** First and last sample, epoch ms, in `zone`. */
export function boundsFor(
  t: Trace,
  v: Version,
  zone: string,
): { first: number | null; last: number | null } {
  let b = v.bounds.get(zone);
  if (!b) {
    b = { first: null, last: null };
    if (v.rows > 0) {
      const rel = relation(v, clockFor(v, zone), { sources: [], exprs: [] });
      const r = t.run(`SELECT min(t)::DOUBLE AS a, max(t)::DOUBLE AS b FROM (${rel})`);
      b = { first: r.getChild("a")!.get(0), last: r.getChild("b")!.get(0) };
    }
    v.bounds.set(zone, b);
  }
  return b;
}

const W = "__sysmon_w";
const US = "__sysmon_us";

/**
 * The rows of a range: `t` (epoch ms), `tus` (epoch µs, with `micros`) and `exprs` over
 * the file's columns `sources`. The range is also applied to the stored timestamps
 * (widened by the zone's offsets), so DuckDB skips row groups outside it by their
 * statistics.
 */
export function relation(
  v: Version,
  clock: WallClock,
  r: { sources: string[]; exprs: string[]; start?: number; end?: number; micros?: boolean },
): string {
  const ts = ident("timestamp");
  const off = clock.offsetSql(W);
  const pre = [`${ts} IS NOT NULL`];
  const post: string[] = [];
  if (r.start !== undefined) {
    pre.push(`${ts} >= ${tsLiteral(r.start + clock.minOffset, v.tsType)}`);
    post.push(`t >= ${Math.ceil(r.start)}`);
  }
  if (r.end !== undefined) {
    pre.push(`${ts} < ${tsLiteral(r.end + clock.maxOffset + 1, v.tsType)}`);
    post.push(`t <= ${Math.floor(r.end)}`);
  }
  const sources = [...new Set(r.sources)].map((s) => `, ${ident(s)}`).join("");
  const us = r.micros ? `, epoch_us(${ts}) AS ${US}` : "";
  const inner = `SELECT epoch_ms(${ts}) AS ${W}${us}${sources} FROM ${literal(v.name)}
      WHERE ${pre.join(" AND ")}`;
  const tus = r.micros ? `, ${US} - CAST(${off} AS BIGINT) * 1000 AS tus` : "";
  const exprs = r.exprs.map((e) => `, ${e}`).join("");
  const mid = `SELECT ${W} - ${off} AS t${tus}${exprs} FROM (${inner})`;
  return post.length ? `SELECT * FROM (${mid}) WHERE ${post.join(" AND ")}` : mid;
}

/** SQL of a column's values: -1 of the original tool is a gap; empty text columns are gaps. */
export function valueSql(c: Column): string {
  const col = c.duck === "VARCHAR" ? `TRY_CAST(${ident(c.source)} AS DOUBLE)` : ident(c.source);
  return c.sentinel ? `NULLIF(${col}, -1)` : col;
}

/** Throws a Refusal unless [start, end] is a range of times. */
export function checkRange(start: number, end: number) {
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new Refusal("bad_input", "start and end must be times (epoch ms or ISO 8601)");
  }
  if (start > end) {
    throw new Refusal(
      "bad_input",
      `start (${new Date(start).toISOString()}) is after end (${new Date(end).toISOString()})`,
    );
  }
}

/** A literal of the stored timestamp type for epoch ms `ms` (naive or UTC as stored). */
function tsLiteral(ms: number, tsType: string): string {
  const clamped = Math.min(Math.max(ms, -62135596800000), 253402300799999);
  const text = new Date(clamped).toISOString().replace("T", " ").replace("Z", "");
  return tsType === "TIMESTAMP WITH TIME ZONE"
    ? `TIMESTAMPTZ '${text}+00'`
    : `CAST('${text}' AS ${tsType === "DATE" ? "TIMESTAMP" : tsType})`;
}

/** Naive wall time (ms) as "2026-10-25 02:00". */
function wallText(w: number): string {
  return new Date(w).toISOString().slice(0, 16).replace("T", " ");
}
