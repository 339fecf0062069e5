// Several trace files read as one: a directory of them, a glob (`trace.*parquet`, `day-*.csv`),
// or the files of one trace (its segments). What each part is (a file, a trace with its
// journal) is the opener's to say (source.ts); answers are merged in time order, columns that
// only some files have are empty in the others.
import { bucketWidth, emptyResult } from "./reduce.ts";
import { breakHoles, holeLimit } from "./gaps.ts";
import { join } from "node:path";
import fs from "node:fs";
import { isRefusal, Refusal } from "../schema/refusal.ts";
import { rowRange, uncovered } from "./segmented.ts";
import { csvCell } from "./export_csv.ts";
import type {
  ColumnInfo,
  ProcessList,
  ProcessListQuery,
  ProcessSeriesQuery,
  ProcessSeriesResult,
  SeriesQuery,
  SeriesResult,
  TraceMeta,
  TraceSource,
} from "../views/types.ts";
import type { ProcessRecord } from "../schema/column_types.ts";
import { joinProcessSeries, mergeLists, wholeList } from "./process_merge.ts";

const TRACE_FILE = /\.(parquet|csv)$/i;

/** Whether `path` names several files: a directory, or a glob in its last part. */
export function isMany(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory(); // a file named `trace[1].parquet` is one file
  } catch {
    return /[*?[]/.test(path.slice(path.lastIndexOf("/") + 1));
  }
}

/** What a directory or glob view keeps beside its files (events): where no listing reads it. */
export function manyNotesPath(path: string): string {
  const dir = manyDir(path);
  const label = fs.existsSync(path) ? "" : `-${path.slice(path.lastIndexOf("/") + 1)}`;
  return join(dir, `.sysmon${label.replace(/[^A-Za-z0-9._-]/g, "_")}`);
}

/** The directory a directory or glob view reads. */
export function manyDir(path: string): string {
  if (fs.existsSync(path)) return path;
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

/** The trace files `path` names (a directory's, or a glob's), sorted; a Refusal when none. */
export function listTraces(path: string): string[] {
  const slash = path.lastIndexOf("/");
  let dir: string, pattern: RegExp;
  if (!fs.existsSync(path)) {
    dir = manyDir(path);
    pattern = globPattern(path.slice(slash + 1));
  } else {
    dir = path;
    pattern = TRACE_FILE;
  }
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    throw new Refusal("not_found", `${dir} cannot be listed: ${(err as Error).message}`);
  }
  // Not hidden files, and not the events kept beside a trace (`trace.parquet.events.csv`).
  const files = names.filter((n) =>
    !n.startsWith(".") && pattern.test(n) && TRACE_FILE.test(n) && !n.endsWith(".events.csv")
  )
    .map((n) => join(dir, n))
    .filter(isFile)
    .sort();
  if (files.length === 0) {
    throw new Refusal("not_found", `${path} names no .parquet or .csv file (yet)`);
  }
  return files;
}

/** A regular file (a FIFO, a link loop or a dangling link is left out). */
function isFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A shell glob of one path part (`*`, `?`, `[...]`) as an anchored regular expression. */
export function globPattern(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    throw new Refusal("bad_input", `'${glob}' is not a glob sysmon can read (a bad [...] range?)`);
  }
}

export interface ManyOptions {
  /** One part: its answers as they are (a trace without segments reads as a file alone). */
  oneAsIs?: boolean;
  /** Files of one trace: a part whose rows another part holds too is left out (segmented.ts). */
  byRows?: boolean;
  /** The notice that several parts are read as one (default: "N files, read as one trace"). */
  notice?: (parts: number) => string | null;
}

/**
 * The files `list()` names (a directory's, a glob's, a trace's segments) read as one trace,
 * listed again on every answer: a file added is opened (`open`), one gone is closed.
 */
export async function manyTraces(
  label: string,
  list: () => string[],
  open: (file: string) => Promise<TraceSource>,
  opts: ManyOptions = {},
): Promise<TraceSource> {
  const many = new ManyTraces(label, list, open, opts);
  try {
    await many.meta(); // a bad file is reported at once
  } catch (err) {
    await many.close();
    throw err;
  }
  return many;
}

interface Part {
  part: TraceSource;
  /** Lent (see metaOf): read, never changed. */
  meta: TraceMeta;
}

/** A part's meta, lent where it can be: 278 files' copies cost 2 MB an answer. */
function metaOf(part: TraceSource, sourceZone?: string): Promise<TraceMeta> {
  return part.lentMeta ? part.lentMeta(sourceZone) : part.meta(sourceZone);
}

/** A meta of one's own: its columns, metadata and notices copied. */
export function copyMeta(m: TraceMeta): TraceMeta {
  const columns = m.columns.map((c) => ({ ...c }));
  return { ...m, columns, metadata: { ...m.metadata }, notices: [...m.notices] };
}

class ManyTraces implements TraceSource {
  private parts = new Map<string, TraceSource>();
  /** Closed: a part opened for an answer still asked of it is closed at once (source.ts). */
  private closed = false;
  constructor(
    private readonly label: string,
    private readonly list: () => string[],
    private readonly open: (file: string) => Promise<TraceSource>,
    private readonly opts: ManyOptions,
  ) {}

  /** The parts as the listing is now. */
  private async current(): Promise<TraceSource[]> {
    const files = this.list();
    if (files.length === 0) throw new Refusal("not_found", `${this.label}: no file left to read`);
    const listed = new Set(files);
    for (const [file, part] of this.parts) {
      if (!listed.has(file)) {
        this.parts.delete(file);
        await part.close();
      }
    }
    const out: TraceSource[] = [];
    for (const file of files) {
      let part = this.parts.get(file);
      if (!part) {
        part = await this.open(file);
        if (this.closed) await part.close();
        else this.parts.set(file, part);
      }
      out.push(part);
    }
    return out;
  }

  /** Each part's meta, in time order (parts without rows last); covered parts left out. */
  private async metas(sourceZone?: string): Promise<Part[]> {
    const parts = await this.current();
    let all = await Promise.all(
      parts.map(async (part) => ({ part, meta: await metaOf(part, sourceZone) })),
    );
    if (this.opts.byRows) {
      all = uncovered(all, (p) => rowRange(p.meta.metadata, p.meta.rows)).map((x) => x.item);
    }
    const first = (m: TraceMeta) => m.first ?? Infinity;
    return all.sort((a, b) => first(a.meta) === first(b.meta) ? 0 : first(a.meta) - first(b.meta));
  }

  /** The one part whose answers are the whole's, or null. */
  private single(metas: Part[]): Part | null {
    return this.opts.oneAsIs && metas.length === 1 ? metas[0]! : null;
  }

  /**
   * Runs `fn` again, on the files listed anew, when a part's file went away meanwhile (a piece
   * merged into its segment and deleted, a file removed from a directory): three tries.
   */
  private async again<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= 3 || !isRefusal(err, "not_found")) throw err;
      }
    }
  }

  meta(sourceZone?: string): Promise<TraceMeta> {
    return this.again(async () => {
      const metas = await this.metas(sourceZone);
      const notice = (this.opts.notice ?? defaultNotice)(metas.length);
      const one = this.single(metas);
      return one ? copyMeta(one.meta) : merged(this.label, metas.map((m) => m.meta), notice);
    });
  }

  series(q: SeriesQuery): Promise<SeriesResult> {
    return this.again(async () => {
      const metas = await this.metas(q.sourceZone);
      const one = this.single(metas);
      return await (one ? one.part.series(q) : seriesOf(metas, q));
    });
  }

  async *exportCsv(
    q: { columns?: string[]; start?: number; end?: number; sourceZone?: string },
  ): AsyncIterable<string> {
    const metas = await this.again(() => this.metas(q.sourceZone));
    const one = this.single(metas);
    if (one) yield* one.part.exportCsv(q);
    else yield* exportOf(this.label, metas, q);
  }

  processesAt(
    at: number,
    sourceZone?: string,
  ): Promise<{ at: number | null; processes: ProcessRecord[] }> {
    return this.again(async () => {
      let best: { at: number | null; processes: ProcessRecord[] } = { at: null, processes: [] };
      let bestGap = Infinity, bestIndex = Infinity;
      // Nearest parts first; one whose rows all lie farther than the best sample is not read
      // (a far file's answer scans and sorts its whole `processes` column). Ties: the earliest.
      const near = (await this.metas(sourceZone)).map(({ part, meta }, i) => ({
        part,
        i,
        gap: gapTo(meta, at),
      })).sort((a, b) => a.gap - b.gap || a.i - b.i);
      for (const { part, i, gap } of near) {
        if (gap > bestGap) break;
        const r = await part.processesAt(at, sourceZone);
        if (r.at === null) continue;
        const d = Math.abs(r.at - at);
        if (d < bestGap || (d === bestGap && i < bestIndex)) {
          best = r, bestGap = d, bestIndex = i;
        }
      }
      return best;
    });
  }

  processList(q: ProcessListQuery): Promise<ProcessList> {
    return this.again(async () => {
      const metas = await this.metas(q.sourceZone);
      const one = this.single(metas);
      if (one) return await one.part.processList(q);
      const split = splitRange(metas, q);
      if (!split?.parts.length) return await metas[0]!.part.processList(q); // none: its answer
      const lists = await Promise.all(
        split.parts.map(({ part, a, b }) =>
          part.processList({ ...wholeList(q), start: a, end: b })
        ),
      );
      return mergeLists(lists, q, split.start, split.end);
    });
  }

  processSeries(q: ProcessSeriesQuery): Promise<ProcessSeriesResult> {
    return this.again(async () => {
      const metas = await this.metas(q.sourceZone);
      const one = this.single(metas);
      if (one) return await one.part.processSeries(q);
      const split = splitRange(metas, q);
      if (!split?.parts.length) return await metas[0]!.part.processSeries(q); // none: its answer
      // One bucket width for every file: a full segment's answer is the same while the trace
      // grows (and is found again, process_series.ts).
      const width = q.width ?? bucketWidth(split.end - split.start + 1, Math.max(4, q.points));
      const answers = [];
      for (const { part, a, b } of split.parts) {
        answers.push(await part.processSeries({ ...q, start: a, end: b, width }));
      }
      return joinProcessSeries(q.keys, answers, split.start, split.end);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const parts = [...this.parts.values()];
    this.parts.clear();
    await Promise.all(parts.map((p) => p.close()));
  }
}

const defaultNotice = (n: number) => `${n} files, read as one trace`;

/** How far `at` lies from a part's rows (0 within them; Infinity: no rows). */
function gapTo(meta: TraceMeta, at: number): number {
  if (meta.first === null || meta.last === null) return Infinity;
  return Math.max(0, meta.first - at, at - meta.last);
}

/** The metas of parts (in time order) as one. */
function merged(label: string, metas: TraceMeta[], notice: string | null): TraceMeta {
  const columns = new Map<string, ColumnInfo>();
  for (const m of metas) {
    for (const c of m.columns) if (!columns.has(c.name)) columns.set(c.name, { ...c });
  }
  const firsts = metas.map((m) => m.first).filter((t): t is number => t !== null);
  const lasts = metas.map((m) => m.last).filter((t): t is number => t !== null);
  const same = <T>(pick: (m: TraceMeta) => T) =>
    metas.every((m) => pick(m) === pick(metas[0]!)) ? pick(metas[0]!) : null;
  const newest = metas.filter((m) => m.last !== null).at(-1) ?? metas[0]!;
  const metadata = { ...newest.metadata };
  delete metadata["sysmon.first_row"]; // one file's, not the whole's
  return {
    file: label,
    format: same((m) => m.format) ?? "parquet",
    producer: metas.every((m) => m.producer === "sysmon") ? "sysmon" : "original",
    rows: metas.reduce((n, m) => n + m.rows, 0),
    first: firsts.length ? Math.min(...firsts) : null,
    last: lasts.length ? Math.max(...lasts) : null,
    columns: [...columns.values()],
    dataTimezone: same((m) => m.dataTimezone),
    sourceZone: newest.sourceZone,
    host: same((m) => m.host),
    sampleInterval: newest.sampleInterval,
    metadata,
    notices: [...(notice ? [notice] : []), ...new Set(metas.flatMap((m) => m.notices))],
  };
}

/** A series of parts (in time order): each answers for its part of the range. */
async function seriesOf(metas: Part[], q: SeriesQuery): Promise<SeriesResult> {
  const split = splitRange(metas, q);
  if (!split) return await metas[0]!.part.series(q); // no rows: its answer
  const { start, end } = split;
  const span = Math.max(1, end - start);
  const out = emptyResult(start, end);
  const names = [...new Set(q.columns)];
  for (const n of names) out.series[n] = [];
  const missing = new Set(names);
  let joined = out, interval = 0;
  for (const { part, meta, a, b } of split.parts) {
    // Each file gets the share of the points its part of the range is.
    const points = Math.max(4, Math.round(q.points * (b - a) / span));
    const r = await part.series({ ...q, start: a, end: b, points });
    const at = joined.t.length;
    joined.rows += r.rows;
    joined.reduced ||= r.reduced;
    joined.t.push(...r.t);
    for (const n of names) {
      const v = r.series[n];
      if (v) missing.delete(n);
      joined.series[n]!.push(...(v ?? new Array(r.t.length).fill(null)));
    }
    // A hole between this file's rows and the last one's (each part breaks its own).
    interval = Math.max(interval, meta.sampleInterval ?? 0);
    if (at > 0) joined = breakHoles(joined, holeLimit(interval || null), at, at + 1);
  }
  for (const n of missing) delete joined.series[n];
  joined.missing = names.filter((n) => missing.has(n));
  return inTimeOrder(joined);
}

/**
 * The range of a query over parts (in time order), and each part's share of it (those with
 * rows in it); null when no part has rows.
 */
function splitRange(metas: Part[], q: { start?: number; end?: number }) {
  const withRows = metas.filter((m) => m.meta.first !== null && m.meta.last !== null);
  if (withRows.length === 0) return null;
  const start = q.start ?? Math.min(...withRows.map((m) => m.meta.first!));
  const end = q.end ?? Math.max(...withRows.map((m) => m.meta.last!));
  const parts = withRows.map(({ part, meta }) => ({
    part,
    meta,
    a: Math.max(start, meta.first!),
    b: Math.min(end, meta.last!),
  })).filter((p) => p.a <= p.b);
  return { start, end, parts };
}

/** The CSV export of parts (in time order), in the columns of the whole. */
async function* exportOf(
  label: string,
  metas: Part[],
  q: { columns?: string[]; start?: number; end?: number; sourceZone?: string },
): AsyncIterable<string> {
  const scalar = (c: ColumnInfo) => c.type !== "list" && c.name !== "timestamp";
  const known = new Set(metas.flatMap((m) => m.meta.columns.filter(scalar).map((c) => c.name)));
  const cols = q.columns?.length
    ? [...new Set(q.columns)].filter((n) => n !== "timestamp")
    : [...known];
  const unknown = cols.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new Refusal("bad_input", `columns: no file of ${label} has ${unknown.join(", ")}`);
  }
  yield ["timestamp", ...cols].map(csvCell).join(",") + "\n";
  // Each file for its part of the range only: a range outside a file is not its to refuse.
  for (const { part, meta, a, b } of splitRange(metas, q)?.parts ?? []) {
    const have = new Set(meta.columns.map((c) => c.name));
    const mine = cols.filter((c) => have.has(c));
    let first = true;
    for await (const chunk of part.exportCsv({ ...q, start: a, end: b, columns: mine })) {
      // Its own header first: its lines are re-laid in the columns of the whole.
      const text = first ? chunk.slice(chunk.indexOf("\n") + 1) : chunk;
      first = false;
      if (mine.length === cols.length) {
        if (text) yield text;
        continue;
      }
      yield relay(text, mine, cols);
    }
  }
}

/** Files that overlap in time (a run and a snapshot of it) give points out of order: sorted. */
function inTimeOrder(r: SeriesResult): SeriesResult {
  if (r.t.every((t, i) => i === 0 || t >= r.t[i - 1]!)) return r;
  const order = r.t.map((_, i) => i).sort((a, b) => r.t[a]! - r.t[b]! || a - b);
  const series: Record<string, (number | null)[]> = {};
  for (const [n, v] of Object.entries(r.series)) series[n] = order.map((i) => v[i] ?? null);
  return { ...r, t: order.map((i) => r.t[i]!), series };
}

/** CSV lines in the columns `from` (after the timestamp) laid out in `to`, blanks elsewhere. */
export function relay(text: string, from: string[], to: string[]): string {
  const at = to.map((c) => from.indexOf(c));
  let out = "";
  for (const fields of csvRecords(text)) {
    out += [fields[0] ?? "", ...at.map((i) => (i < 0 ? "" : fields[i + 1] ?? ""))].join(",") + "\n";
  }
  return out;
}

/** RFC 4180 records, each field kept as written (quotes included). */
export function* csvRecords(text: string): Generator<string[]> {
  let fields: string[] = [];
  let start = 0, quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ",") {
      fields.push(text.slice(start, i));
      start = i + 1;
    } else if (!quoted && ch === "\n") {
      fields.push(text.slice(start, i));
      yield fields;
      fields = [];
      start = i + 1;
    }
  }
  if (start < text.length) yield [...fields, text.slice(start)];
}
