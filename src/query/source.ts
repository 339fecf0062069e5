// A trace file as the dashboard reads it: sysmon's Parquet or CSV, or the original Python
// tool's (pandas) Parquet or CSV, behind one interface (TraceSource, src/views/types.ts).
//
// Versions. Every call first stats the file. A file that changed (inode, size or mtime: the
// tracer renames a new file over it, or appends to a CSV) is opened again and registered in
// DuckDB under a fresh name; the previous version is dropped once no call uses it. A Parquet
// version is read in place through the descriptor opened for it, which pins its inode: a
// file renamed over ours leaves every query of the version on the complete old one, and the
// next call moves to the new one. A CSV version is read whole (through one descriptor) and
// converted once into an in-memory Parquet. A file that changes in place while its footer or
// text is read is read again (three tries), so a half-written version is never used.
//
// Time. DuckDB holds the stored timestamps; every answer is epoch ms UTC. Instants (sysmon
// --utc, pandas tz-aware, CSV text with an offset) need nothing. Naive wall times are read
// in the source zone: the file's own (`sysmon.tz_name` when `sysmon.timezone` is "local"),
// else the caller's override, else this server's zone (with a notice). The conversion is one
// SQL CASE over the zone's offset transitions within the trace (computed once per version
// and zone with Temporal), not a Temporal object per row:
// - a wall time that occurs twice (the hour after daylight saving time ends) is read as its
//   first occurrence (Temporal's "compatible", i.e. the earlier instant), and a notice says so;
// - a wall time that never occurs (the hour skipped when it starts; no clock shows one) is
//   read with the offset before the change, i.e. shifted forward by the gap, also
//   "compatible": 02:30 on 2026-03-29 in Europe/Berlin is 01:30Z, as 03:30 CEST is.
//
// The original tool writes -1 for a reading it could not take; all its metrics are
// non-negative, so in its files (and only there) -1 in a numeric column is a gap (null).
// Its older container columns `<name>_container_<metric>` are renamed `docker_<name>_<metric>`.
import fs from "node:fs";
import { Temporal } from "temporal-polyfill";
import { columnDef, PROCESS_FIELDS, PROCESSES_COLUMN } from "../schema/columns.ts";
import { splitCsvLine } from "../store/csv_sink.ts";
import { DOCKER_METRICS, dockerColumnDef } from "../schema/docker_columns.ts";
import { parseSummaryIndex, SUMMARY_KEY, type SummaryIndex } from "../store/summary_block.ts";
import { type ReadAt, readFileSummary } from "./file_summary.ts";
import { serverZone } from "./zone.ts";
import { type Engine, engine, ident, literal, type Table } from "./engine.ts";
import { inspectPath, openRegularFile, PathKindError } from "../store/paths.ts";
import {
  aggregate,
  appendSummary,
  canUseSummary,
  compact,
  extendSummary,
  reduceSeries,
  requestWidth,
  type Summary,
  SummaryMismatch,
  summaryWidth,
  truncateSummary,
} from "./reduce.ts";
import type {
  ColumnInfo,
  ColumnType,
  ProcessEntry,
  SeriesQuery,
  SeriesResult,
  TraceMeta,
  TraceSource,
} from "../views/types.ts";

export type TraceErrorKind = "missing" | "unreadable" | "bad_request";

/** A problem the user can act on; `message` is shown as it is. */
export class TraceError extends Error {
  readonly kind: TraceErrorKind;
  constructor(kind: TraceErrorKind, message: string) {
    super(message);
    this.name = "TraceError";
    this.kind = kind;
  }

  /** HTTP status: 404 file missing, 422 file unreadable, 400 bad request. */
  get status(): 400 | 404 | 422 {
    return this.kind === "missing" ? 404 : this.kind === "unreadable" ? 422 : 400;
  }
}

export interface OpenOptions {
  /**
   * Zone of naive timestamps in files that name none, when the caller gives none (default:
   * this server's).
   */
  defaultZone?: string;
  /** Called after a version's bytes are read and before they are checked unchanged (tests). */
  afterRead?: () => void | Promise<void>;
  /**
   * Build summaries for long ranges in the background after each new version of a long
   * trace (default true; they are built on first use anyway).
   */
  warm?: boolean;
  /** Columns to summarise first (the pages' charts), in this order; the others follow. */
  warmFirst?: (columns: ColumnInfo[]) => string[];
  /** Traces with fewer rows are always scanned (default 50,000; tests set less). */
  summaryMinRows?: number;
}

/** Opens a trace; throws TraceError when it is missing or unreadable. */
export async function openTrace(path: string, opts: OpenOptions = {}): Promise<TraceSource> {
  const defaultZone = opts.defaultZone ? resolveZone(opts.defaultZone) : serverZone();
  const source = new FileTrace(path, await engine(), defaultZone, opts);
  await source.meta(); // reads it now, so that a bad file is reported at once
  return source;
}

// ---------------------------------------------------------------------------------------
// Zones

/** A zone as given by a user ("UTC", "local" for this server's, an IANA name), canonical. */
export function resolveZone(zone: string): string {
  const z = zone.trim();
  if (z.toLowerCase() === "local") return serverZone();
  if (z.toUpperCase() === "UTC" || z === "Z") return "UTC";
  try {
    return Temporal.Now.zonedDateTimeISO(z).timeZoneId;
  } catch {
    throw new TraceError(
      "bad_request",
      `unknown time zone '${zone}': use UTC, local, or an IANA name such as Europe/Berlin`,
    );
  }
}

interface Segment {
  /** Wall time (naive ms) up to which `offset` applies, exclusive. */
  until: number;
  /** Zone offset, ms (wall - instant). */
  offset: number;
}

const DAY_MS = 86_400_000;

/** Naive wall times of one zone to instants, over a span of wall times. */
export class WallClock {
  readonly zone: string;
  readonly segments: Segment[];
  /** Wall time ranges that occur twice (daylight saving time ended). */
  readonly repeated: { from: number; to: number }[];

  private constructor(zone: string, segments: Segment[], repeated: { from: number; to: number }[]) {
    this.zone = zone;
    this.segments = segments;
    this.repeated = repeated;
  }

  /** The offsets of `zone` for wall times from `wMin` to `wMax` (naive ms). */
  static of(zone: string, wMin: number, wMax: number): WallClock {
    if (zone === "UTC") return new WallClock(zone, [{ until: Infinity, offset: 0 }], []);
    const end = wMax + 2 * DAY_MS;
    let at = Temporal.Instant.fromEpochMilliseconds(wMin - 2 * DAY_MS).toZonedDateTimeISO(zone);
    let offset = at.offsetNanoseconds / 1e6;
    const segments: Segment[] = [];
    const repeated: { from: number; to: number }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const next = at.getTimeZoneTransition("next");
      if (!next || next.epochMilliseconds > end) break;
      const after = next.offsetNanoseconds / 1e6;
      const t = next.epochMilliseconds;
      // Wall times before T + max(before, after) keep the old offset: in a repeated hour
      // that is the first occurrence, in a skipped hour a shift forward (both "compatible").
      segments.push({ until: t + Math.max(offset, after), offset });
      if (after < offset) repeated.push({ from: t + after, to: t + offset });
      offset = after;
      at = next;
    }
    segments.push({ until: Infinity, offset });
    return new WallClock(zone, segments, repeated);
  }

  /** The instant (epoch ms) of wall time `w` (naive ms). */
  toInstant(w: number): number {
    for (const s of this.segments) if (w < s.until) return w - s.offset;
    return w; // unreachable: the last segment is unbounded
  }

  /** SQL for the offset (ms) of the wall time in column `w`. */
  offsetSql(w: string): string {
    if (this.segments.length === 1) return String(this.segments[0]!.offset);
    const whens = this.segments.slice(0, -1).map((s) => `WHEN ${w} < ${s.until} THEN ${s.offset}`);
    return `(CASE ${whens.join(" ")} ELSE ${this.segments.at(-1)!.offset} END)`;
  }

  get minOffset(): number {
    return Math.min(...this.segments.map((s) => s.offset));
  }

  get maxOffset(): number {
    return Math.max(...this.segments.map((s) => s.offset));
  }
}

// ---------------------------------------------------------------------------------------
// Columns

interface Column {
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

const OLD_CONTAINER = new RegExp(`^(.+)_container_(${DOCKER_METRICS.join("|")})$`);

/** A column's definition in sysmon's tables (host, CPU, GPU, container columns). */
function knownDef(name: string) {
  return columnDef(name) ?? dockerColumnDef(name);
}

/** Whether the column should hold numbers (the original's and sysmon's metrics). */
function numericByName(name: string): boolean {
  const def = knownDef(name);
  if (def) return def.kind === "int64" || def.kind === "double";
  return /(_per_sec|_percent|_bytes|_utilization|_count)$/.test(name);
}

function columnType(duck: string): ColumnType | null {
  const t = duck.toUpperCase();
  if (t.endsWith("[]")) return "list";
  if (t.startsWith("TIMESTAMP") || t === "DATE") return "timestamp";
  if (/^(U?(BIG|SMALL|TINY)?INT(EGER)?|HUGEINT|BOOLEAN)$/.test(t)) return "int";
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL.*)$/.test(t)) return "double";
  if (t === "VARCHAR") return "string";
  return null;
}

// ---------------------------------------------------------------------------------------
// Versions

interface Version {
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
  /** Summaries of the previous version of the same trace, to resume (see carryOver). */
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
interface Carried {
  summary: Summary;
  /** Instant (ms) from which the new version is rescanned: the old last fine bucket's start. */
  from: number;
  /** Rows of the old version before `from`. */
  rows: number;
}

/**
 * Hands the summaries of `old` to `next` when `next` looks like the same sysmon trace grown
 * by appending (same trace id, same first sample, no fewer rows): all but their last fine
 * bucket are kept, to be checked (same row count before it) and completed on first use.
 */
function carryOver(old: Version, next: Version) {
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

const W = "__sysmon_w";
const US = "__sysmon_us";

class FileTrace implements TraceSource {
  private readonly path: string;
  private readonly engine: Engine;
  private readonly defaultZone: string;
  private readonly opts: OpenOptions;
  private version: Version | null = null;
  /** Versions loaded so far, and when the current one was. */
  private loads = 0;
  private loadedAt = 0;
  /** Refreshes run one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The next step of building summaries in the background (warm). */
  private warmTimer: ReturnType<typeof setTimeout> | null = null;
  /** When a request last used the trace: warming waits for a quiet moment. */
  private lastUse = 0;
  private readonly summaryMinRows: number;

  constructor(path: string, engine: Engine, defaultZone: string, opts: OpenOptions) {
    this.path = path;
    this.engine = engine;
    this.defaultZone = defaultZone;
    this.opts = opts;
    this.summaryMinRows = opts.summaryMinRows ?? SUMMARY_MIN_ROWS;
  }

  async meta(sourceZone?: string): Promise<TraceMeta> {
    const v = await this.acquire();
    try {
      const { zone, notices } = this.zoneFor(v, sourceZone);
      const { first, last } = this.bounds(v, zone);
      const columns: ColumnInfo[] = v.columns.map((c) => ({
        name: c.name,
        type: c.type,
        unit: c.unit,
      }));
      return {
        file: this.path,
        format: v.format,
        producer: v.producer,
        rows: v.rows,
        first,
        last,
        columns,
        dataTimezone: v.dataTimezone,
        sourceZone: zone,
        host: v.metadata["sysmon.host"] ?? null,
        sampleInterval: v.sampleInterval,
        metadata: { ...v.metadata },
        notices: [...v.notices, ...notices],
      };
    } finally {
      this.release(v);
    }
  }

  async series(q: SeriesQuery): Promise<SeriesResult> {
    const v = await this.acquire();
    try {
      const { zone } = this.zoneFor(v, q.sourceZone);
      const clock = this.clock(v, zone);
      const { first, last } = this.bounds(v, zone);
      const start = q.start ?? first ?? 0;
      const end = q.end ?? last ?? 0;
      checkRange(start, end);
      const names = [...new Set(q.columns)];
      const missing = names.filter((n) => !v.byName.has(n));
      const found = names.flatMap((n) => v.byName.get(n) ?? []);
      for (const c of found) {
        if (c.type !== "int" && c.type !== "double") {
          throw new TraceError(
            "bad_request",
            `column '${c.name}' holds ${describeType(c.type)}, not numbers; it cannot be charted`,
          );
        }
      }
      const points = Math.max(4, Math.floor(q.points));
      const select = {
        sources: found.map((c) => c.source),
        exprs: found.map((c, i) => `${valueSql(c)} AS c${i}`),
      };
      const r = reduceSeries({
        query: (sql) => this.run(sql),
        relation: (a, b) => this.relation(v, clock, { ...select, start: a, end: b }),
        columns: found.length,
        start,
        end,
        points,
        summary: this.summary(v, clock, found, requestWidth(start, end, points)),
        names: found.map((c) => c.name),
      });
      const series: Record<string, (number | null)[]> = {};
      found.forEach((c, i) => (series[c.name] = r.values[i]!.map(compact)));
      return { start, end, rows: r.rows, reduced: r.reduced, t: r.t, series, missing };
    } finally {
      this.release(v);
    }
  }

  async *exportCsv(
    q: { columns?: string[]; start?: number; end?: number; sourceZone?: string },
  ): AsyncIterable<string> {
    const v = await this.acquire();
    try {
      const { zone } = this.zoneFor(v, q.sourceZone);
      const clock = this.clock(v, zone);
      const { first, last } = this.bounds(v, zone);
      const start = q.start ?? first ?? 0;
      const end = q.end ?? last ?? 0;
      checkRange(start, end);
      const cols = this.exportColumns(v, q.columns);
      yield ["timestamp", ...cols.map((c) => c.name)].map(csvCell).join(",") + "\n";
      if (v.rows === 0) return;
      const base = {
        sources: cols.map((c) => c.source),
        exprs: cols.map((c, i) => `${c.sentinel ? valueSql(c) : ident(c.source)} AS c${i}`),
        micros: true,
      };
      for (const [a, b] of this.chunks(v, clock, start, end)) {
        const rel = this.relation(v, clock, { ...base, start: a, end: b });
        const table = this.run(`SELECT * FROM (${rel}) ORDER BY tus`);
        yield csvLines(table, cols.length);
        await Promise.resolve(); // let the response stream take it
      }
    } finally {
      this.release(v);
    }
  }

  async processesAt(
    at: number,
    sourceZone?: string,
  ): Promise<{ at: number | null; processes: ProcessEntry[] }> {
    const v = await this.acquire();
    try {
      const col = v.byName.get(PROCESSES_COLUMN.name);
      if (!col || col.type !== "list" || v.rows === 0) return { at: null, processes: [] };
      const { zone } = this.zoneFor(v, sourceZone);
      const clock = this.clock(v, zone);
      // Look near `at` first: only the row groups around it are read.
      const step = (v.sampleInterval ?? 1) * 1000;
      for (const window of [20 * step, 3_600_000, Infinity]) {
        const rel = this.relation(v, clock, {
          sources: [col.source],
          exprs: [`${ident(col.source)} AS p`],
          start: window === Infinity ? undefined : at - window,
          end: window === Infinity ? undefined : at + window,
        });
        const table = this.run(
          `SELECT t::DOUBLE AS t, p FROM (${rel}) WHERE p IS NOT NULL
           ORDER BY abs(t - ${Math.round(at)}), t LIMIT 1`,
        );
        if (table.numRows === 0) continue;
        const cell = table.getChild("p")?.get(0);
        const structs = col.json
          ? parseProcesses(String(cell), this.path)
          : ((cell as { toArray(): { toJSON(): Record<string, unknown> }[] } | null)?.toArray() ??
            []).map((s) => s.toJSON());
        const processes = structs.map(processEntry);
        return { at: Number(table.getChild("t")!.get(0)), processes };
      }
      return { at: null, processes: [] };
    } finally {
      this.release(v);
    }
  }

  close(): Promise<void> {
    if (this.warmTimer !== null) clearTimeout(this.warmTimer);
    this.warmTimer = null;
    const v = this.version;
    this.version = null;
    if (v) this.retire(v);
    return Promise.resolve();
  }

  // -- versions --------------------------------------------------------------------------

  /** The current version, read again when the file changed; release() it when done. */
  private acquire(): Promise<Version> {
    this.lastUse = performance.now();
    const next = this.chain.then(async () => {
      const v = await this.refresh();
      v.users++;
      return v;
    });
    this.chain = next.catch(() => {});
    return next;
  }

  private release(v: Version) {
    v.users--;
    if (v.retired && v.users === 0) this.free(v);
  }

  private retire(v: Version) {
    v.retired = true;
    if (v.users === 0) this.free(v);
  }

  private free(v: Version) {
    try {
      this.engine.drop(v.name);
    } finally {
      if (v.fd !== null) fs.closeSync(v.fd);
    }
  }

  private async refresh(): Promise<Version> {
    let key: string;
    try {
      key = await this.statKey();
    } catch (err) {
      this.dropVersion(); // a removed file is not served from memory
      throw err;
    }
    if (this.version && this.version.key === key) return this.version;
    const old = this.version;
    this.dropVersion();
    this.loads++;
    this.loadedAt = performance.now();
    const v = await this.load();
    if (old) carryOver(old, v);
    this.version = v;
    this.warm(v);
    return v;
  }

  private dropVersion() {
    const old = this.version;
    this.version = null;
    if (old) this.retire(old);
  }

  private async statKey(): Promise<string> {
    const st = await statOrNull(this.path);
    if (!st) throw missing(this.path);
    return `${fileKey(st)}|${await this.sidecarKey()}`;
  }

  private async sidecarKey(): Promise<string> {
    const st = await statOrNull(`${this.path}.meta.json`);
    return st ? fileKey(st) : "-";
  }

  /** Reads the file through one descriptor (checked unchanged while read) and registers it. */
  private async load(): Promise<Version> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const sidecarKey = await this.sidecarKey();
      const snap = await snapshot(this.path, this.opts.afterRead);
      if (snap === null) continue;
      const key = `${snap.key}|${sidecarKey}`;
      if (snap.kind === "text") return this.parseCsv(key, snap.bytes, this.readSidecar());
      return this.parseParquet(key, snap);
    }
    throw new TraceError(
      "unreadable",
      `${this.path} changed while it was being read, three times in a row: a program is ` +
        `rewriting it in place. sysmon's tracer replaces its file atomically; wait for the ` +
        `writer to finish and reload`,
    );
  }

  /** A Parquet version: read in place through its descriptor where possible. */
  private parseParquet(key: string, snap: Snapshot): Version {
    let fd: number | null = snap.fd;
    const name = this.engine.freshName("trace", "parquet");
    try {
      let kv: Record<string, string>;
      try {
        kv = footerKeyValues(snap.bytes);
      } catch (err) {
        throw new TraceError(
          "unreadable",
          `${this.path} is not a readable Parquet file (its footer is damaged: ${
            (err as Error).message
          })`,
        );
      }
      const fileIndex = parseSummaryIndex(kv[SUMMARY_KEY]);
      let fileRead: ReadAt | null = null;
      if (this.engine.canPin) {
        this.engine.registerPinned(name, fd);
        const pinned = fd;
        fileRead = (offset, length) => readAt(pinned, length, offset);
      } else {
        const bytes = readAt(fd, snap.size, 0);
        this.engine.registerBuffer(name, bytes);
        fs.closeSync(fd);
        fd = null;
        // The blocks now, while the bytes are at hand (a few MB for a long trace).
        const kept = new Map(
          (fileIndex?.blocks ?? []).flatMap((b) =>
            b ? [[b[0], bytes.slice(b[0], b[0] + b[1])] as const] : []
          ),
        );
        fileRead = (offset) => kept.get(offset) ?? new Uint8Array(0);
      }
      try {
        const v = this.describe(key, name, "parquet", kv, false);
        v.fd = fd;
        v.fileIndex = fileIndex;
        v.fileRead = fileRead;
        return v;
      } catch (err) {
        this.engine.drop(name);
        throw err;
      }
    } catch (err) {
      if (fd !== null) fs.closeSync(fd);
      throw err;
    }
  }

  private readSidecar(): { kv: Record<string, string>; notice: string | null } {
    const path = `${this.path}.meta.json`;
    let text: string;
    try {
      const fd = openRegularFile(path, "a JSON file");
      try {
        text = new TextDecoder().decode(fs.readFileSync(fd));
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if (err instanceof PathKindError && err.kind === "missing") return { kv: {}, notice: null };
      return { kv: {}, notice: `${path} could not be read (${(err as Error).message}); ignored` };
    }
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw 0;
      const kv: Record<string, string> = {};
      for (const [k, val] of Object.entries(parsed)) if (typeof val === "string") kv[k] = val;
      return { kv, notice: null };
    } catch {
      return { kv: {}, notice: `${path} is not a JSON object of metadata; ignored` };
    }
  }

  private parseCsv(
    key: string,
    raw: Uint8Array,
    sidecar: { kv: Record<string, string>; notice: string | null },
  ): Version {
    let bytes = startsWith(raw, BOM) ? raw.subarray(3) : raw;
    // A last line without its newline is a write cut short (sysmon appends whole lines).
    const lastNewline = bytes.lastIndexOf(0x0a);
    const firstNewline = bytes.indexOf(0x0a);
    if (lastNewline > firstNewline && lastNewline < bytes.length - 1) {
      bytes = bytes.subarray(0, lastNewline + 1);
    }
    const headerEnd = firstNewline === -1 ? bytes.length : firstNewline;
    const header = splitCsvLine(
      new TextDecoder().decode(bytes.subarray(0, headerEnd)).replace(/\r$/, ""),
    );
    if (!header.includes("timestamp")) throw noTimestamp(this.path, header);
    const firstRow = firstNewline === -1 ? null : new TextDecoder().decode(
      bytes.subarray(firstNewline + 1, Math.min(bytes.length, firstNewline + 1 + 65536)),
    ).split("\n")[0]!;
    const tsText = firstRow
      ? splitCsvLine(firstRow.replace(/\r$/, ""))[header.indexOf("timestamp")] ?? ""
      : "";
    const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(tsText.trim());

    const csvName = this.engine.freshName("trace", "csv");
    const name = this.engine.freshName("trace", "parquet");
    this.engine.registerBuffer(csvName, bytes.subarray(0)); // copied into DuckDB
    try {
      const read = `read_csv(${literal(csvName)}, header = true, auto_detect = true, ` +
        `sample_size = -1, delim = ',', quote = '"', escape = '"')`;
      const types = this.describeSql(`SELECT * FROM ${read}`);
      const present = new Set(types.map(([n]) => n));
      const casts: string[] = [];
      for (const [col, type] of types) {
        if (col === "timestamp") {
          if (columnType(type) !== "timestamp") this.badTimestamps(read, type);
          if (type !== "TIMESTAMP") casts.push(`CAST(${ident(col)} AS TIMESTAMP) AS ${ident(col)}`);
        } else if (type === "VARCHAR" && numericByName(renamed(col, present))) {
          const bad = this.run(
            `SELECT ${ident(col)}::VARCHAR AS v FROM ${read}
             WHERE ${ident(col)} IS NOT NULL AND TRY_CAST(${ident(col)} AS DOUBLE) IS NULL LIMIT 1`,
          );
          if (bad.numRows > 0) {
            throw wrongType(this.path, col, String(bad.getChild("v")!.get(0)));
          }
          casts.push(`CAST(${ident(col)} AS DOUBLE) AS ${ident(col)}`); // empty: all gaps
        }
      }
      this.engine.registerBuffer(name, new Uint8Array(0));
      const select = casts.length ? `* REPLACE (${casts.join(", ")})` : "*";
      this.run(
        `COPY (SELECT ${select} FROM ${read}) TO ${
          literal(name)
        } (FORMAT PARQUET, COMPRESSION ZSTD)`,
      );
    } catch (err) {
      this.engine.drop(name);
      throw err;
    } finally {
      this.engine.drop(csvName);
    }
    try {
      const v = this.describe(key, name, "csv", sidecar.kv, zoned);
      if (sidecar.notice) v.notices.push(sidecar.notice);
      return v;
    } catch (err) {
      this.engine.drop(name);
      throw err;
    }
  }

  /** Throws when the CSV's `timestamp` column holds something else than times. */
  private badTimestamps(read: string, type: string) {
    const bad = this.run(
      `SELECT "timestamp"::VARCHAR AS v FROM ${read}
       WHERE "timestamp" IS NOT NULL AND TRY_CAST("timestamp" AS TIMESTAMP) IS NULL LIMIT 1`,
    );
    if (bad.numRows > 0) {
      throw new TraceError(
        "unreadable",
        `column 'timestamp' of ${this.path} holds '${clip(String(bad.getChild("v")!.get(0)))}', ` +
          `which is not a date and time (expected e.g. 2026-03-29 14:05:00.123456)`,
      );
    }
    if (type === "VARCHAR") return; // every value empty (or no rows): nothing to convert
    throw new TraceError("unreadable", `column 'timestamp' of ${this.path} is ${type}, not a time`);
  }

  /** Column names and DuckDB types of a query. */
  private describeSql(sql: string): [string, string][] {
    const t = this.run(`DESCRIBE ${sql}`);
    const names = t.getChild("column_name")!.toArray() as string[];
    const types = t.getChild("column_type")!.toArray() as string[];
    return names.map((n, i) => [String(n), String(types[i])]);
  }

  /** The version of a registered Parquet: columns, time zone, counts. */
  private describe(
    key: string,
    name: string,
    format: "parquet" | "csv",
    kv: Record<string, string>,
    zonedText: boolean,
  ): Version {
    const types = this.describeSql(`SELECT * FROM ${literal(name)}`);
    const metadata = Object.fromEntries(
      Object.entries(kv).filter(([k]) => k.startsWith("sysmon.")),
    );
    const producer = "sysmon.version" in metadata || "sysmon.trace_id" in metadata
      ? "sysmon"
      : "original";
    const notices: string[] = [];
    const tsType = types.find(([n]) => n === "timestamp")?.[1];
    if (tsType === undefined) throw noTimestamp(this.path, types.map(([n]) => n));
    if (columnType(tsType) !== "timestamp") {
      throw new TraceError(
        "unreadable",
        `column 'timestamp' of ${this.path} is ${tsType}, not a timestamp`,
      );
    }
    let units: Record<string, string> = {};
    try {
      units = JSON.parse(metadata["sysmon.units"] ?? "{}");
    } catch {
      notices.push("the file's sysmon.units metadata is not JSON; sysmon's own units are shown");
    }
    const present = new Set(types.map(([n]) => n));
    const columns: Column[] = [];
    for (const [source, duck] of types) {
      if (source.startsWith("__index_level_")) continue; // a pandas index
      let type = columnType(duck);
      if (!type) {
        notices.push(`column '${source}' (${duck}) is not shown: sysmon cannot chart that type`);
        continue;
      }
      const colName = renamed(source, present);
      if (type === "string" && numericByName(colName)) {
        const ex = this.run(
          `SELECT ${ident(source)} AS v FROM ${literal(name)}
           WHERE ${ident(source)} IS NOT NULL LIMIT 1`,
        );
        if (ex.numRows > 0) throw wrongType(this.path, source, String(ex.getChild("v")!.get(0)));
        type = "double"; // text only in type: every value is empty, a gap
      }
      const json = type === "string" && colName === PROCESSES_COLUMN.name;
      columns.push({
        name: colName,
        source,
        duck,
        type: json ? "list" : type,
        unit: units[colName] || knownDef(colName)?.unit || null,
        sentinel: producer === "original" && (type === "int" || type === "double"),
        json,
      });
    }

    const instant = tsType === "TIMESTAMP WITH TIME ZONE" || zonedText;
    let dataTimezone: string | null = null;
    if (instant || metadata["sysmon.timezone"] === "UTC") dataTimezone = "UTC";
    else if (metadata["sysmon.timezone"] === "local") {
      const tz = metadata["sysmon.tz_name"];
      try {
        dataTimezone = tz ? resolveZone(tz) : null;
      } catch {
        notices.push(`the file names its time zone '${tz}', which this server does not know`);
      }
    }

    const ts = ident("timestamp");
    const stats = this.run(
      `SELECT count(*)::DOUBLE AS n, epoch_ms(min(${ts}))::DOUBLE AS lo,
              epoch_ms(max(${ts}))::DOUBLE AS hi
       FROM ${literal(name)} WHERE ${ts} IS NOT NULL`,
    );
    const rows = Number(stats.getChild("n")!.get(0));
    const lo = stats.getChild("lo")!.get(0) as number | null;
    const hi = stats.getChild("hi")!.get(0) as number | null;

    let sampleInterval: number | null = Number(metadata["sysmon.sample_interval_s"]);
    if (!(sampleInterval > 0)) {
      // The original tool does not record it: the median step of the first 1,000 samples.
      const est = this.run(
        `SELECT median(d)::DOUBLE AS d FROM (
           SELECT w - lag(w) OVER () AS d FROM (
             SELECT epoch_ms(${ts}) AS w FROM ${literal(name)} WHERE ${ts} IS NOT NULL LIMIT 1001))
         WHERE d > 0`,
      );
      const d = est.getChild("d")?.get(0) as number | null;
      sampleInterval = d ? d / 1000 : null;
    }
    const byName = new Map(columns.map((c) => [c.name, c]));
    return {
      key,
      name,
      format,
      producer,
      metadata,
      columns,
      byName,
      tsType,
      dataTimezone,
      rows,
      wMin: lo,
      wMax: hi,
      sampleInterval,
      notices,
      clocks: new Map(),
      bounds: new Map(),
      summaries: new Map(),
      carried: new Map(),
      fileIndex: null,
      fileRead: null,
      fileSummaries: new Map(),
      fd: null,
      users: 0,
      retired: false,
    };
  }

  /** The zone that reads this version's timestamps, and what the user should know. */
  private zoneFor(v: Version, override?: string): { zone: string; notices: string[] } {
    const asked = override ? resolveZone(override) : null;
    const notices: string[] = [];
    let zone: string;
    if (v.dataTimezone) {
      zone = v.dataTimezone;
      if (asked && asked !== zone) {
        notices.push(
          `${this.path} records its times in ${zone}; the source zone ${asked} does not apply`,
        );
      }
    } else {
      zone = asked ?? this.defaultZone;
      notices.push(
        `Timestamps in ${this.path} carry no time zone; they are read as ${zone}` +
          `${asked ? "" : " (this server's zone)"}. Choose UTC as the data time zone if the ` +
          `trace was recorded in UTC (--utc).`,
      );
    }
    if (v.wMin !== null && v.wMax !== null) {
      for (const r of this.clock(v, zone).repeated) {
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

  private clock(v: Version, zone: string): WallClock {
    let c = v.clocks.get(zone);
    if (!c) {
      const now = Date.now();
      c = WallClock.of(zone, v.wMin ?? now, v.wMax ?? now);
      v.clocks.set(zone, c);
    }
    return c;
  }

  /**
   * The fine-bucket summary of a long trace with these columns, when an answer of bucket
   * `width` can be merged from it (reduce.ts).
   */
  private summary(v: Version, clock: WallClock, cols: Column[], width: number): Summary | null {
    const file = cols.length > 0 ? this.fromFile(v, clock, cols) : null;
    if (file && canUseSummary(width, file.width)) return file;
    const fine = this.fineWidth(v, clock.zone);
    if (fine === null || cols.length === 0 || !canUseSummary(width, fine)) return null;
    return this.ensureSummary(v, clock, cols, fine);
  }

  /**
   * The tracer's summary (file_summary.ts) of `cols` in the clock's zone, or null: none in
   * the file, a trace short enough to scan, or blocks that do not fit the zone.
   */
  private fromFile(v: Version, clock: WallClock, cols: Column[]): Summary | null {
    if (!v.fileIndex || !v.fileRead || v.rows < this.summaryMinRows) return null;
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
  private fineWidth(v: Version, zone: string): number | null {
    if (v.rows < this.summaryMinRows) return null;
    const { first, last } = this.bounds(v, zone);
    return first === null || last === null ? null : summaryWidth(last - first + 1);
  }

  /**
   * The summary of `v` in the clock's zone holding `cols`: built on first use, per version
   * and zone; a summary carried over from the previous version of the same trace gets only
   * its tail rescanned.
   */
  private ensureSummary(v: Version, clock: WallClock, cols: Column[], fine: number): Summary {
    const run = (sql: string) => this.run(sql);
    let s = v.summaries.get(clock.zone) ?? null;
    if (s && s.width !== fine) s = null;
    const carried = v.carried.get(clock.zone);
    if (!s && carried) {
      v.carried.delete(clock.zone);
      s = this.resume(v, clock, carried, fine);
    }
    const todo = cols.filter((c) => !s?.columns.has(c.name));
    if (todo.length > 0) {
      const relation = this.relation(v, clock, {
        sources: todo.map((c) => c.source),
        exprs: todo.map((c, i) => `${valueSql(c)} AS c${i}`),
      });
      const names = todo.map((c) => c.name);
      try {
        s = extendSummary(s, run, relation, names, fine);
      } catch (err) {
        if (!(err instanceof SummaryMismatch)) throw err;
        s = extendSummary(null, run, relation, names, fine); // start over with these columns
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
  private resume(v: Version, clock: WallClock, c: Carried, fine: number): Summary | null {
    if (c.summary.width !== fine) return null;
    const before = this.relation(v, clock, { sources: [], exprs: [], end: c.from - 1 });
    const n = Number(
      this.run(`SELECT count(*)::DOUBLE AS n FROM (${before})`).getChild("n")!.get(0),
    );
    if (n !== c.rows) return null;
    const cols = [...c.summary.columns.keys()].map((name) => v.byName.get(name));
    if (cols.some((col) => !col)) return null;
    const relation = this.relation(v, clock, {
      sources: cols.map((col) => col!.source),
      exprs: cols.map((col, i) => `${valueSql(col!)} AS c${i}`),
      start: c.from,
    });
    const tail = aggregate((sql) => this.run(sql), relation, cols.length, fine);
    return appendSummary(c.summary, tail);
  }

  /** Summaries of a version for every numeric column, a few at a time between requests. */
  private warm(v: Version) {
    if (this.opts.warm === false || v.rows < this.summaryMinRows) return;
    const zone = v.dataTimezone ?? this.defaultZone;
    const infos = v.columns.map((c) => ({ name: c.name, type: c.type, unit: c.unit }));
    const order = this.opts.warmFirst?.(infos) ?? [];
    const first = new Map(order.map((name, i) => [name, i]));
    const cols = v.columns.filter((c) => c.type === "int" || c.type === "double")
      .map((c, i) => ({ c, rank: first.get(c.name) ?? first.size + i }))
      .sort((a, b) => a.rank - b.rank)
      .map((x) => x.c);
    let next = 0;
    const step = () => {
      this.warmTimer = null;
      if (v.retired || next >= cols.length) return;
      // Each step blocks for a few hundred ms (DuckDB-WASM is synchronous here): never while
      // the user's requests are coming in.
      if (performance.now() - this.lastUse < WARM_QUIET_MS) {
        this.warmTimer = setTimeout(step, WARM_QUIET_MS);
        return;
      }
      const fine = this.fineWidth(v, zone);
      if (fine === null) return;
      // Nothing to build when the tracer's summary holds every column at least as finely.
      const file = next === 0 ? this.fromFile(v, this.clock(v, zone), cols) : null;
      if (file && file.width <= fine) return;
      try {
        this.ensureSummary(v, this.clock(v, zone), cols.slice(next, next + WARM_BATCH), fine);
      } catch (err) {
        // The same error reaches the user with their next request; warming just stops.
        v.notices.push(`summaries for long ranges are not ready: ${(err as Error).message}`);
        return;
      }
      next += WARM_BATCH;
      this.warmTimer = setTimeout(step, 20);
    };
    this.warmTimer = setTimeout(step, 0);
  }

  /** First and last sample, epoch ms, in `zone`. */
  private bounds(v: Version, zone: string): { first: number | null; last: number | null } {
    let b = v.bounds.get(zone);
    if (!b) {
      b = { first: null, last: null };
      if (v.rows > 0) {
        const rel = this.relation(v, this.clock(v, zone), { sources: [], exprs: [] });
        const t = this.run(`SELECT min(t)::DOUBLE AS a, max(t)::DOUBLE AS b FROM (${rel})`);
        b = { first: t.getChild("a")!.get(0), last: t.getChild("b")!.get(0) };
      }
      v.bounds.set(zone, b);
    }
    return b;
  }

  /**
   * The rows of a range: `t` (epoch ms), `tus` (epoch µs, with `micros`) and `exprs` over
   * the file's columns `sources`. The range is also applied to the stored timestamps
   * (widened by the zone's offsets), so DuckDB skips row groups outside it by their
   * statistics.
   */
  private relation(
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
    const tus = r.micros ? `, ${US} - ${off} * 1000 AS tus` : "";
    const exprs = r.exprs.map((e) => `, ${e}`).join("");
    const mid = `SELECT ${W} - ${off} AS t${tus}${exprs} FROM (${inner})`;
    return post.length ? `SELECT * FROM (${mid}) WHERE ${post.join(" AND ")}` : mid;
  }

  /** Columns of an export: all scalar ones by default; unknown or list columns are refused. */
  private exportColumns(v: Version, names?: string[]): Column[] {
    if (!names || names.length === 0) {
      return v.columns.filter((c) => c.type !== "list" && c.name !== "timestamp");
    }
    const wanted = [...new Set(names)].filter((n) => n !== "timestamp");
    const unknown = wanted.filter((n) => !v.byName.has(n));
    if (unknown.length > 0) {
      throw new TraceError(
        "bad_request",
        `columns: ${this.path} has no column ${unknown.map((n) => `'${n}'`).join(", ")}`,
      );
    }
    const cols = wanted.map((n) => v.byName.get(n)!);
    const list = cols.find((c) => c.type === "list");
    if (list) {
      throw new TraceError(
        "bad_request",
        `columns: '${list.name}' holds lists of processes, which CSV cannot carry; ` +
          `use /api/processes`,
      );
    }
    return cols;
  }

  /** Time windows of about EXPORT_CHUNK_ROWS rows each, covering [start, end]. */
  private chunks(v: Version, clock: WallClock, start: number, end: number): [number, number][] {
    const width = Math.max(1, Math.ceil((end - start + 1) / 1000));
    const rel = this.relation(v, clock, { sources: [], exprs: [], start, end });
    const h = this.run(
      `SELECT (t // ${width})::DOUBLE AS b, count(*)::DOUBLE AS n FROM (${rel})
       GROUP BY 1 ORDER BY 1`,
    );
    const bs = h.getChild("b")!.toArray() as Float64Array;
    const ns = h.getChild("n")!.toArray() as Float64Array;
    const out: [number, number][] = [];
    let from = start, rows = 0;
    for (let i = 0; i < bs.length; i++) {
      rows += ns[i]!;
      if (rows >= EXPORT_CHUNK_ROWS && i < bs.length - 1) {
        const to = (bs[i]! + 1) * width - 1;
        out.push([from, to]);
        from = to + 1;
        rows = 0;
      }
    }
    out.push([from, end]);
    return out;
  }

  // -- queries ---------------------------------------------------------------------------

  private run(sql: string): Table {
    // Cache parsed footers for the first version, and for a later one once it has lasted:
    // a live trace's versions (one a minute) would each leave their footer in the cache.
    this.engine.objectCache(
      this.loads <= 1 || performance.now() - this.loadedAt > STABLE_VERSION_MS,
    );
    try {
      return this.engine.query(sql);
    } catch (err) {
      throw new TraceError(
        "unreadable",
        `${this.path} could not be read: ${firstLine((err as Error).message)}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// Helpers

const PAR1 = new TextEncoder().encode("PAR1");
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
/** Traces shorter than this are always scanned: a summary would not pay for itself. */
const SUMMARY_MIN_ROWS = 50_000;
/** Columns summarised per background step (about 0.4 s for 1,000,000 rows; requests wait). */
const WARM_BATCH = 4;
/** Warming steps run only after this long without a request. */
const WARM_QUIET_MS = 1000;
/** Rows per chunk of a CSV export. */
const EXPORT_CHUNK_ROWS = 5000;
/** A later version of a file gets its footer cached once it has been current this long. */
const STABLE_VERSION_MS = 10 * 60_000;

/** The dashboard's name of a file column: `<n>_container_<metric>` → `docker_<n>_<metric>`. */
function renamed(source: string, present: Set<string>): string {
  const m = OLD_CONTAINER.exec(source);
  if (!m) return source;
  const target = `docker_${m[1]}_${m[2]}`;
  return present.has(target) ? source : target;
}

/** SQL of a column's values: -1 of the original tool is a gap; empty text columns are gaps. */
function valueSql(c: Column): string {
  const col = c.duck === "VARCHAR" ? `TRY_CAST(${ident(c.source)} AS DOUBLE)` : ident(c.source);
  return c.sentinel ? `NULLIF(${col}, -1)` : col;
}

function describeType(t: ColumnType): string {
  return t === "string" ? "text" : t === "list" ? "lists" : "times";
}

function checkRange(start: number, end: number) {
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new TraceError("bad_request", "start and end must be times (epoch ms or ISO 8601)");
  }
  if (start > end) {
    throw new TraceError(
      "bad_request",
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

/** Epoch µs as ISO 8601 UTC: milliseconds, and microseconds when there are any. */
export function isoMicros(us: bigint): string {
  let ms = us / 1000n;
  if (us < 0n && ms * 1000n !== us) ms -= 1n;
  const rest = us - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, "0")}Z`;
}

/** One CSV cell (RFC 4180 quoting). */
function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Lines of an export chunk: `tus` then `c0`…. */
function csvLines(table: Table, columns: number): string {
  const tus = table.getChild("tus")!;
  const vecs = Array.from({ length: columns }, (_, i) => table.getChild(`c${i}`)!);
  const lines: string[] = [];
  for (let r = 0; r < table.numRows; r++) {
    let line = isoMicros(BigInt(tus.get(r)));
    for (const v of vecs) line += "," + csvCell(v.get(r));
    lines.push(line);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** The JSON text of a `processes` cell (sysmon's CSV) as objects. */
function parseProcesses(text: string, path: string): Record<string, unknown>[] {
  try {
    const list = JSON.parse(text);
    if (Array.isArray(list)) return list.filter((p) => typeof p === "object" && p !== null);
  } catch {
    // reported below
  }
  throw new TraceError(
    "unreadable",
    `column 'processes' of ${path} holds '${clip(text)}', not a JSON list of processes`,
  );
}

/** A struct of the `processes` column as the dashboard's ProcessEntry. */
function processEntry(o: Record<string, unknown>): ProcessEntry {
  const out: Record<string, unknown> = {};
  for (const f of PROCESS_FIELDS) {
    const x = o[f.name];
    out[f.name] = x === undefined || x === null ? null : typeof x === "bigint" ? Number(x) : x;
  }
  out.name ??= "";
  return out as unknown as ProcessEntry;
}

function fileKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

async function statOrNull(path: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw openError(path, err);
  }
}

function missing(path: string): TraceError {
  const seen = inspectPath(path);
  if (seen.kind === "dangling link") return new TraceError("missing", `${path} ${seen.says}`);
  return new TraceError(
    "missing",
    `${path} does not exist (yet): start a tracer writing it (sysmon run -o ${path}), ` +
      `or check the path`,
  );
}

function openError(path: string, err: unknown): TraceError {
  if (err instanceof TraceError) return err;
  if (err instanceof PathKindError) {
    return err.kind === "missing" ? missing(path) : new TraceError("unreadable", err.message);
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return missing(path);
  if (code === "EACCES" || code === "EPERM") {
    return new TraceError("unreadable", `cannot read ${path}: permission denied`);
  }
  if (code === "ELOOP") return new TraceError("unreadable", `${path} ${inspectPath(path).says}`);
  return new TraceError("unreadable", `cannot read ${path}: ${(err as Error).message}`);
}

/** One version of a file, read through one descriptor. */
interface Snapshot {
  /** Open (read-only), pinning the version's inode; the caller closes it. */
  fd: number;
  key: string;
  size: number;
  kind: "parquet" | "text";
  /** Parquet: the footer (with its length and magic); text: the whole file. */
  bytes: Uint8Array;
}

/** `length` bytes at `position` (fewer at the end of the file). */
function readAt(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const n = fs.readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return off === length ? buf : buf.subarray(0, off);
}

/**
 * Opens `path` and reads what a version needs: a Parquet file's footer (the rest is read in
 * place later), a text file whole. Null when the file changed while read (in place: size or
 * mtime moved); a file renamed over the path meanwhile does not matter, the descriptor holds
 * the one it opened.
 */
async function snapshot(
  path: string,
  afterRead?: () => void | Promise<void>,
): Promise<Snapshot | null> {
  let fd: number;
  try {
    fd = openRegularFile(path); // a FIFO or a device is refused, never read
  } catch (err) {
    throw openError(path, err);
  }
  let keep = false;
  try {
    const st = fs.fstatSync(fd);
    const changed = () => {
      const now = fs.fstatSync(fd);
      return now.size !== st.size || now.mtimeMs !== st.mtimeMs;
    };
    let kind: "parquet" | "text";
    let bytes: Uint8Array;
    try {
      if (st.size === 0) {
        throw new TraceError("unreadable", `${path} is empty (0 bytes): no trace to show yet`);
      }
      ({ kind, bytes } = readVersion(path, fd, st.size));
    } catch (err) {
      if (changed()) return null; // read while being rewritten: try again
      throw err;
    }
    await afterRead?.();
    if (changed()) return null;
    keep = kind === "parquet";
    return { fd, key: fileKey(st), size: st.size, kind, bytes };
  } catch (err) {
    throw openError(path, err);
  } finally {
    if (!keep) fs.closeSync(fd);
  }
}

function readVersion(path: string, fd: number, size: number) {
  const head = readAt(fd, Math.min(4, size), 0);
  if (!startsWith(head, PAR1)) {
    const bytes = readAt(fd, size, 0);
    if (!looksLikeText(bytes)) {
      throw new TraceError(
        "unreadable",
        `${path} is neither a Parquet file (no PAR1 header) nor CSV text`,
      );
    }
    return { kind: "text" as const, bytes };
  }
  const truncated = () =>
    new TraceError(
      "unreadable",
      `${path} is a truncated Parquet file (${size} bytes, no footer): it was cut short, or ` +
        `is still being written by a program that does not replace it atomically`,
    );
  if (size < 12) throw truncated();
  const tail = readAt(fd, 8, size - 8);
  if (!endsWith(tail, PAR1)) throw truncated();
  const len = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (len + 12 > size) {
    throw new TraceError(
      "unreadable",
      `${path} is not a readable Parquet file (its footer length ${len} exceeds the file)`,
    );
  }
  return { kind: "parquet" as const, bytes: readAt(fd, len + 8, size - len - 8) };
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function endsWith(bytes: Uint8Array, suffix: Uint8Array): boolean {
  const at = bytes.length - suffix.length;
  return at >= 0 && suffix.every((b, i) => bytes[at + i] === b);
}

/** No NUL and no control characters but tab, newline and carriage return in the first 4 KiB. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return true;
}

function noTimestamp(path: string, found: string[]): TraceError {
  return new TraceError(
    "unreadable",
    `No column 'timestamp' in ${path}; found: ${found.slice(0, 20).join(", ")}` +
      (found.length > 20 ? `, … (${found.length} columns)` : ""),
  );
}

function wrongType(path: string, column: string, example: string): TraceError {
  return new TraceError(
    "unreadable",
    `column '${column}' of ${path} holds text ('${clip(example)}') where numbers belong`,
  );
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function firstLine(s: string): string {
  return s.split("\n")[0]!;
}

/**
 * The key-value metadata of a Parquet footer (`FileMetaData.key_value_metadata`, field 5,
 * Thrift compact protocol), skipping everything else. A full parse of a long trace's
 * footer (hundreds of row groups × columns) costs hundreds of ms and of MB; this reads
 * the same bytes once and keeps two strings per entry. `footer`: the metadata, its length
 * and the magic.
 */
export function footerKeyValues(footer: Uint8Array): Record<string, string> {
  const end = footer.length - 8;
  let pos = 0;
  const byte = () => {
    if (pos >= end) throw new Error("the footer ends early");
    return footer[pos++]!;
  };
  const varint = () => {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const b = byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
    }
    throw new Error("a varint is too long");
  };
  const binary = () => {
    const n = varint();
    if (pos + n > end) throw new Error("a string runs past the footer");
    pos += n;
    return footer.subarray(pos - n, pos);
  };
  /** Calls `field(id, type)` for each field of a struct; it must consume the value. */
  const struct = (field: (id: number, type: number) => void) => {
    let last = 0;
    for (;;) {
      const h = byte();
      const type = h & 0x0f;
      if (type === 0) return;
      const delta = h >> 4;
      const id = delta ? last + delta : ((n) => (n >>> 1) ^ -(n & 1))(varint());
      last = id;
      field(id, type);
    }
  };
  const skip = (type: number, inList = false): void => {
    switch (type) {
      case 1:
      case 2: // bool: in the field header, or one byte in a list
        if (inList) byte();
        return;
      case 3:
        byte();
        return;
      case 4:
      case 5:
      case 6:
        varint();
        return;
      case 7:
        if (pos + 8 > end) throw new Error("a double runs past the footer");
        pos += 8;
        return;
      case 8:
        binary();
        return;
      case 9:
      case 10: {
        const h = byte();
        const n = h >> 4 === 15 ? varint() : h >> 4;
        for (let i = 0; i < n; i++) skip(h & 0x0f, true);
        return;
      }
      case 11: {
        const n = varint();
        if (n === 0) return;
        const kv = byte();
        for (let i = 0; i < n; i++) (skip(kv >> 4, true), skip(kv & 0x0f, true));
        return;
      }
      case 12:
        struct((_id, t) => skip(t));
        return;
      default:
        throw new Error(`unknown Thrift type ${type} at byte ${pos}`);
    }
  };
  const out: Record<string, string> = {};
  const text = new TextDecoder();
  struct((id, type) => {
    if (id !== 5 || type !== 9) return skip(type);
    const h = byte();
    const n = h >> 4 === 15 ? varint() : h >> 4;
    if ((h & 0x0f) !== 12) throw new Error("key_value_metadata is not a list of structs");
    for (let i = 0; i < n; i++) {
      let key = "", value = "";
      struct((f, t) => {
        if (f === 1 && t === 8) key = text.decode(binary());
        else if (f === 2 && t === 8) value = text.decode(binary());
        else skip(t);
      });
      out[key] = value;
    }
  });
  return out;
}
