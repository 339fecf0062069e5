// A trace file as the dashboard reads it: sysmon's Parquet or CSV, or the original Python
// tool's (pandas) Parquet or CSV, behind one interface (TraceSource, src/views/types.ts).
//
// Versions. Every call first stats the file (a CSV's `.meta.json` sidecar too). A file that
// changed (inode, size or mtime: the tracer renames a new file over it, or appends to a CSV) is
// opened again and registered in DuckDB under a fresh name; the previous version is dropped once
// no call uses it. A Parquet version is read in place through the descriptor opened for it,
// which pins its inode: a file renamed over ours leaves every query of the version on the
// complete old one, and the next call moves to the new one. A CSV version is read whole (through
// one descriptor) and converted once into an in-memory Parquet. A file that changes in place
// while its footer or text is read is read again (three tries), so a half-written version is
// never used. The last meta built is kept for its version and zone.
//
// Segments. A trace `sysmon run` writes is `trace.parquet` and, beside it, the files that hold
// its later rows (`trace.0001.parquet`, …): listed again on every call and read as one
// (multi.ts), a file whose rows another holds too left out (segmented.ts), the journal once.
//
// The parts: trace_file.ts (the file on disk, one version's bytes, its errors),
// load_version.ts and describe.ts (a version registered, and what it holds), version.ts
// (what every query of a version shares: its zone, first and last sample, rows of a range),
// wall_clock.ts (naive wall times as instants), summaries.ts (long ranges without a scan),
// export_csv.ts, processes_at.ts and process_series.ts (the Processes tab).
import { SMALL_FOOTER_BYTES } from "./footer_facts.ts";
import { copyMeta, isMany, listTraces, manyTraces } from "./multi.ts";
import { groupTraces, segmentFiles, type ViewGroup } from "./segmented.ts";
import { basename } from "node:path";
import { withJournal } from "./journaled.ts";
import { Refusal } from "../schema/refusal.ts";
import fs from "node:fs";
import type {
  ColumnInfo,
  ColumnType,
  ProcessEntry,
  ProcessList,
  ProcessListQuery,
  ProcessSeriesQuery,
  ProcessSeriesResult,
  SeriesQuery,
  SeriesResult,
  TraceMeta,
  TraceSource,
} from "../views/types.ts";
import { type Engine, engine, type Table } from "./engine.ts";
import { exportCsv } from "./export_csv.ts";
import { loadVersion } from "./load_version.ts";
import { processesAt } from "./processes_at.ts";
import { versionProcessList, versionProcessSeries } from "./process_series.ts";
import { compact, reduceSeries, requestWidth } from "./reduce.ts";
import { carryOver, SUMMARY_MIN_ROWS, summaryFor, Warmer } from "./summaries.ts";
import { ownKey, sidecarKey } from "./trace_file.ts";
import {
  boundsFor,
  checkRange,
  clockFor,
  relation,
  type Trace,
  valueSql,
  type Version,
  zoneFor,
} from "./version.ts";
import { resolveZone, serverZone } from "./zone.ts";

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

/**
 * Opens a trace (its file, the files beside it that hold its later rows, and the rows its
 * journal holds that no file does yet), or the files a directory or a glob names as one trace
 * (multi.ts); throws a Refusal when it is missing or unreadable.
 */
export async function openTrace(path: string, opts: OpenOptions = {}): Promise<TraceSource> {
  if (isMany(path)) return await openView(path, opts);
  if (!path.endsWith(".parquet")) return withJournal(await openFile(path, opts), path);
  // Listed again on every answer: a segment written since is read; alone, the file as it is.
  const files = await manyTraces(path, () => segmentFiles(path), (f) => openFile(f, opts), {
    oneAsIs: true,
    byRows: true,
    notice: (n) => `${basename(path)} and ${n - 1} later file(s) of its trace, read as one`,
  });
  return withJournal(files, path); // and the rows only its journal holds yet
}

/**
 * A directory or glob view: each trace in it (its files there, a lone file) read as one, the
 * journal of each trace whose own file is in the view given once.
 */
async function openView(view: string, opts: OpenOptions): Promise<TraceSource> {
  return await openGroups(view, () => groupTraces(listTraces(view)), opts, false);
}

/**
 * The traces `list()` names (each its files, with its journal when its own file is listed),
 * read as one, listed again on every answer: a directory or glob view, or one trace of a
 * comparison (compare_set.ts) that a directory holds beside others.
 */
export async function openGroups(
  label: string,
  listGroups: () => ViewGroup[],
  opts: OpenOptions = {},
  /** A single group read as it is (no notice that files are read as one). */
  oneAsIs = true,
): Promise<TraceSource> {
  let groups = new Map<string, ViewGroup>();
  const list = () => {
    groups = new Map(listGroups().map((g) => [g.key, g]));
    return [...groups.keys()];
  };
  const files = () => [...groups.values()].reduce((n, g) => n + g.files.length, 0);
  const openGroup = async (key: string) => {
    const g = groups.get(key)!;
    const trace = await manyTraces(
      g.base,
      () => groups.get(key)?.files ?? [],
      (f) => openFile(f, opts),
      { oneAsIs: true, byRows: true, notice: () => null },
    );
    return g.journal ? withJournal(trace, g.base) : trace;
  };
  return await manyTraces(label, list, openGroup, {
    oneAsIs,
    notice: () => `${files()} files, read as one trace`,
  });
}

/** One file alone (no files beside it, no journal). */
async function openFile(path: string, opts: OpenOptions): Promise<TraceSource> {
  const defaultZone = opts.defaultZone ? resolveZone(opts.defaultZone) : serverZone();
  const source = new FileTrace(path, await engine(), defaultZone, opts);
  await source.meta(); // reads it now, so that a bad file is reported at once
  return source;
}

/** A later version of a file gets its footer cached once it has been current this long. */
const STABLE_VERSION_MS = 10 * 60_000;

/**
 * Small footers (footer_facts.ts) are parsed again per query rather than kept in DuckDB's
 * object cache: an hour's segment (17 KB, under 1 ms to parse) kept 0.6 MiB of heap that is
 * never given back, 160 MiB for 278 hourly files; a long file's footer (3 MB for 1,000,000
 * rows) is worth keeping.
 */
const CACHED_FOOTER_BYTES = SMALL_FOOTER_BYTES;

class FileTrace implements TraceSource, Trace {
  readonly path: string;
  readonly engine: Engine;
  readonly defaultZone: string;
  readonly summaryMinRows: number;
  footerBytes = Infinity;
  private readonly opts: OpenOptions;
  private version: Version | null = null;
  /** Versions loaded so far, and when the current one was. */
  private loads = 0;
  private loadedAt = 0;
  /** Refreshes run one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly warmer: Warmer;
  /** The last meta built, for its version, zone asked and number of the version's notices. */
  private lastMeta: { v: Version; zone?: string; notices: number; meta: TraceMeta } | null = null;
  /** Closed: an answer still asked of it reads a version that is freed once it is given. */
  private closed = false;

  constructor(path: string, engine: Engine, defaultZone: string, opts: OpenOptions) {
    this.path = path;
    this.engine = engine;
    this.defaultZone = defaultZone;
    this.opts = opts;
    this.summaryMinRows = opts.summaryMinRows ?? SUMMARY_MIN_ROWS;
    this.warmer = new Warmer(this, opts);
  }

  async meta(sourceZone?: string): Promise<TraceMeta> {
    return copyMeta(await this.lentMeta(sourceZone)); // a copy: the caller's to change
  }

  /** The meta itself, not to be changed (multi.ts reads each file's on every answer). */
  async lentMeta(sourceZone?: string): Promise<TraceMeta> {
    const v = await this.acquire();
    try {
      return this.builtMeta(v, sourceZone);
    } finally {
      this.release(v);
    }
  }

  /** The version's meta, built again only for another version, zone or notice. */
  private builtMeta(v: Version, sourceZone?: string): TraceMeta {
    const last = this.lastMeta;
    if (last?.v === v && last.zone === sourceZone && last.notices === v.notices.length) {
      return last.meta;
    }
    const meta = this.buildMeta(v, sourceZone);
    this.lastMeta = { v, zone: sourceZone, notices: v.notices.length, meta };
    return meta;
  }

  private buildMeta(v: Version, sourceZone?: string): TraceMeta {
    const { zone, notices } = zoneFor(this, v, sourceZone);
    const { first, last } = boundsFor(this, v, zone);
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
  }

  async series(q: SeriesQuery): Promise<SeriesResult> {
    const v = await this.acquire();
    try {
      const { zone } = zoneFor(this, v, q.sourceZone);
      const clock = clockFor(v, zone);
      const { first, last } = boundsFor(this, v, zone);
      const start = q.start ?? first ?? 0;
      const end = q.end ?? last ?? 0;
      checkRange(start, end);
      const names = [...new Set(q.columns)];
      const missing = names.filter((n) => !v.byName.has(n));
      const found = names.flatMap((n) => v.byName.get(n) ?? []);
      for (const c of found) {
        if (c.type !== "int" && c.type !== "double") {
          throw new Refusal(
            "bad_input",
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
        relation: (a, b) => relation(v, clock, { ...select, start: a, end: b }),
        columns: found.length,
        start,
        end,
        points,
        summary: summaryFor(this, v, clock, found, requestWidth(start, end, points)),
        names: found.map((c) => c.name),
        interval: v.sampleInterval,
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
      yield* exportCsv(this, v, q);
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
      return processesAt(this, v, at, sourceZone);
    } finally {
      this.release(v);
    }
  }

  async processList(q: ProcessListQuery): Promise<ProcessList> {
    const v = await this.acquire();
    try {
      return versionProcessList(this, v, q);
    } finally {
      this.release(v);
    }
  }

  async processSeries(q: ProcessSeriesQuery): Promise<ProcessSeriesResult> {
    const v = await this.acquire();
    try {
      return versionProcessSeries(this, v, q);
    } finally {
      this.release(v);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.warmer.stop();
    const v = this.version;
    this.version = null;
    if (v) this.retire(v);
    return Promise.resolve();
  }

  /** Runs one query; DuckDB's failure is a Refusal naming the file. */
  run(sql: string): Table {
    // Cache a big parsed footer for the first version, and for a later one once it has
    // lasted: a live trace's versions (one a minute) would each leave their footer in it.
    this.engine.objectCache(
      this.footerBytes >= CACHED_FOOTER_BYTES &&
        (this.loads <= 1 || performance.now() - this.loadedAt > STABLE_VERSION_MS),
    );
    try {
      return this.engine.query(sql);
    } catch (err) {
      throw new Refusal(
        "unreadable",
        `${this.path} could not be read: ${firstLine((err as Error).message)}`,
      );
    }
  }

  // -- versions --------------------------------------------------------------------------

  /** The current version, read again when the file changed; release() it when done. */
  private acquire(): Promise<Version> {
    this.warmer.used();
    const next = this.chain.then(async () => {
      const v = await this.refresh();
      v.users++;
      if (this.closed) this.dropVersion(); // freed on release
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
      const own = ownKey(this.path);
      // Only a CSV version reads the sidecar: a Parquet one is current while its file is.
      const v = this.version;
      if (v?.format === "parquet" && v.key.startsWith(`${own}|`)) return v;
      key = `${own}|${sidecarKey(this.path)}`;
    } catch (err) {
      this.dropVersion(); // a removed file is not served from memory
      throw err;
    }
    if (this.version && this.version.key === key) return this.version;
    const old = this.version;
    this.dropVersion();
    this.loads++;
    this.loadedAt = performance.now();
    const v = await loadVersion(this, this.opts.afterRead);
    if (old) carryOver(old, v);
    this.version = v;
    if (!this.closed) this.warmer.start(v);
    return v;
  }

  private dropVersion() {
    const old = this.version;
    this.version = null;
    this.lastMeta = null;
    if (old) this.retire(old);
  }
}

function describeType(t: ColumnType): string {
  return t === "string" ? "text" : t === "list" ? "lists" : "times";
}

function firstLine(s: string): string {
  return s.split("\n")[0]!;
}
