// One row stream for everything serve answers: a trace's Parquet data and the rows that are
// only in its journal yet (written by `sysmon run`, not folded into the file: up to a fold
// interval of them). Wraps the file's TraceSource; the journal is read by offset, so each
// answer costs only the bytes appended since the last one. A tracer serve started and a
// `sysmon run` started elsewhere write the same journal, so both are seen the same way.
import { PROCESSES_COLUMN } from "../schema/columns.ts";
import type { ProcessRecord, Row } from "../schema/column_types.ts";
import { journalPath, JournalTail } from "../store/journal.ts";
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
import { csvCell, isoMicros } from "./export_csv.ts";
import { processEntry } from "./processes_at.ts";
import { instant } from "./zone.ts";
import { csvRecords, relay } from "./multi.ts";
import {
  joinProcessSeries,
  mergeLists,
  ProcessTally,
  SeriesBuckets,
  wholeList,
} from "./process_merge.ts";
import { breakHoles, holeLimit } from "./gaps.ts";

interface TailRow {
  seq: number;
  /** Epoch ms UTC, and µs for the export. */
  t: number;
  us: bigint;
  row: Row;
}

/** `source` with the rows of `path`'s journal that its file does not hold yet. */
export function withJournal(source: TraceSource, path: string): TraceSource {
  return new JournaledTrace(source, path);
}

class JournaledTrace implements TraceSource {
  private readonly tail: JournalTail;
  private rows: { seq: number; row: Row }[] = [];

  constructor(private readonly file: TraceSource, path: string) {
    this.tail = new JournalTail(journalPath(path));
  }

  /** The file's answer about itself and the journal's rows after it, in `zone`'s instants. */
  private async read(sourceZone?: string): Promise<{ meta: TraceMeta; tail: TailRow[] }> {
    // The journal before the file: a writer folds into the file first and starts the journal
    // over after, so a fold between the two reads cannot hide rows from this answer.
    // What it gave is kept before anything can fail or wait: it is not read twice.
    const r = this.tail.read();
    if (r.restarted) this.rows = [];
    this.rows.push(...r.rows);
    const meta = await this.file.meta(sourceZone);
    // Rows the file holds now were folded in: the journal keeps only the others.
    this.rows = this.rows.filter((x) => x.seq >= meta.rows);
    const utc = this.tail.header?.utc ?? meta.dataTimezone === "UTC";
    const tail: TailRow[] = [];
    for (const x of this.rows) {
      const ts = x.row.timestamp;
      if (typeof ts !== "number") continue;
      const t = instant(ts, utc, meta.sourceZone);
      const last = tail.at(-1)?.t ?? meta.last ?? -Infinity;
      if (t <= last) continue; // the same sample again, or out of order
      tail.push({
        seq: x.seq,
        t,
        us: BigInt(t) * 1000n + ((BigInt(Math.floor(ts)) % 1000n) + 1000n) % 1000n,
        row: x.row,
      });
    }
    return { meta, tail };
  }

  async meta(sourceZone?: string): Promise<TraceMeta> {
    const { meta, tail } = await this.read(sourceZone);
    if (tail.length === 0) return meta;
    const have = new Set(meta.columns.map((c) => c.name));
    const extra: ColumnInfo[] = [];
    for (const x of tail) {
      for (const [name, v] of Object.entries(x.row)) {
        if (have.has(name)) continue;
        have.add(name);
        const type = name === PROCESSES_COLUMN.name
          ? "list"
          : typeof v === "string"
          ? "string"
          : "double";
        extra.push({ name, type, unit: null });
      }
    }
    return {
      ...meta,
      rows: meta.rows + tail.length,
      first: meta.first ?? tail[0]!.t,
      last: tail.at(-1)!.t,
      columns: [...meta.columns, ...extra],
    };
  }

  async series(q: SeriesQuery): Promise<SeriesResult> {
    const { meta, tail } = await this.read(q.sourceZone);
    const end = q.end ?? tail.at(-1)?.t ?? meta.last ?? 0;
    const inRange = tail.filter((x) => x.t >= (q.start ?? -Infinity) && x.t <= end);
    if (inRange.length === 0) return await this.file.series(q);
    // The file up to its last row (a range that starts after it: none of its rows, but its
    // checks of the columns), then the journal's rows.
    const fileEnd = Math.min(end, meta.last ?? -Infinity);
    const start = q.start ?? meta.first ?? inRange[0]!.t;
    const fromFile = await this.file.series(
      start <= fileEnd ? { ...q, end: fileEnd } : { ...q, start, end: start },
    );
    const series: Record<string, (number | null)[]> = {};
    for (const c of new Set(q.columns)) {
      const before = fromFile.series[c] ?? new Array(fromFile.t.length).fill(null);
      series[c] = [...before, ...inRange.map((x) => numberOf(x.row[c]))];
    }
    const present = new Set(inRange.flatMap((x) => Object.keys(x.row)));
    const t = [...fromFile.t, ...inRange.map((x) => x.t)];
    // Holes from the file's last row on (the file's answer has its own broken already).
    const limit = holeLimit(meta.sampleInterval ?? this.tail.header?.sample_interval_s, t);
    return breakHoles(
      {
        start: fromFile.start,
        end,
        rows: fromFile.rows + inRange.length,
        reduced: fromFile.reduced,
        t,
        series,
        missing: fromFile.missing.filter((c) => !present.has(c)),
      },
      limit,
      Math.max(1, fromFile.t.length),
    );
  }

  async *exportCsv(
    q: { columns?: string[]; start?: number; end?: number; sourceZone?: string },
  ): AsyncIterable<string> {
    const { meta, tail } = await this.read(q.sourceZone);
    const end = q.end ?? tail.at(-1)?.t ?? meta.last ?? 0;
    const start = q.start ?? meta.first ?? tail[0]?.t ?? end;
    // Columns only the journal has yet (a GPU or a container that appeared since the fold).
    const inFile = new Set(meta.columns.map((c) => c.name));
    const fresh = [...new Set(tail.flatMap((x) => Object.keys(x.row)))]
      .filter((n) =>
        !inFile.has(n) && n !== "timestamp" && !tail.some((x) => Array.isArray(x.row[n]))
      );
    const asked = q.columns?.length
      ? [...new Set(q.columns)].filter((n) => n !== "timestamp")
      : null;
    const mine = asked?.filter((n) => inFile.has(n) || !fresh.includes(n)); // unknown: the file says so
    // The file up to its last row (a range after it: its header only), then the journal's.
    const fileEnd = Math.min(end, meta.last ?? -Infinity);
    const range = start <= fileEnd ? { end: fileEnd } : { start, end: start };
    const fromFile = { ...q, ...range, columns: mine?.length ? mine : undefined };
    let names: string[] | null = null;
    let cols: string[] = [];
    for await (const chunk of this.file.exportCsv(fromFile)) {
      if (names === null) {
        // The file's export names its columns in its first line.
        names = [...csvRecords(chunk.slice(0, chunk.indexOf("\n") + 1))][0]!.slice(1)
          .map((h) => h.replace(/^"|"$/g, "").replaceAll('""', '"'));
        cols = asked ?? [...names, ...fresh];
        yield ["timestamp", ...cols].map((c) => csvCell(c)).join(",") + "\n";
        const rest = chunk.slice(chunk.indexOf("\n") + 1);
        if (rest) yield sameColumns(names, cols) ? rest : relay(rest, names, cols);
        continue;
      }
      yield sameColumns(names, cols) ? chunk : relay(chunk, names, cols);
    }
    if (names === null) return;
    let lines = "";
    for (const x of tail) {
      if (x.t < (q.start ?? -Infinity) || x.t > end) continue;
      lines += [isoMicros(x.us), ...cols.map((n) => csvCell(scalar(x.row[n])))].join(",") + "\n";
    }
    if (lines) yield lines;
  }

  async processesAt(
    at: number,
    sourceZone?: string,
  ): Promise<{ at: number | null; processes: ProcessRecord[] }> {
    const { tail } = await this.read(sourceZone);
    const fromFile = await this.file.processesAt(at, sourceZone);
    let best: TailRow | null = null;
    for (const x of tail) {
      if (!Array.isArray(x.row.processes)) continue;
      if (!best || Math.abs(x.t - at) < Math.abs(best.t - at)) best = x;
    }
    if (!best) return fromFile;
    if (fromFile.at !== null && Math.abs(fromFile.at - at) <= Math.abs(best.t - at)) {
      return fromFile;
    }
    const list = best.row.processes as unknown as Record<string, unknown>[];
    return { at: best.t, processes: list.map(processEntry) };
  }

  async processList(q: ProcessListQuery): Promise<ProcessList> {
    const { meta, tail } = await this.read(q.sourceZone);
    const end = q.end ?? tail.at(-1)?.t ?? meta.last ?? 0;
    const start = q.start ?? meta.first ?? tail[0]?.t ?? end;
    const tally = new ProcessTally(q);
    let listed = 0;
    for (const x of tail) {
      if (x.t < start || x.t > end || !Array.isArray(x.row.processes)) continue;
      tally.add(x.t, listOf(x.row.processes));
      listed++;
    }
    if (listed === 0) return await this.file.processList(q);
    const fromFile = await this.file.processList(wholeList(q));
    const mine = {
      start,
      end,
      recorded: true,
      total: tally.size,
      processes: tally.summaries(),
    };
    return mergeLists([fromFile, mine], q, start, end);
  }

  async processSeries(q: ProcessSeriesQuery): Promise<ProcessSeriesResult> {
    const { meta, tail } = await this.read(q.sourceZone);
    const end = q.end ?? tail.at(-1)?.t ?? meta.last ?? 0;
    const inRange = tail.filter((x) => x.t >= (q.start ?? -Infinity) && x.t <= end);
    if (inRange.length === 0) return await this.file.processSeries(q);
    // The file up to its last row, then each of the journal's rows at its own position.
    const start = q.start ?? meta.first ?? inRange[0]!.t;
    const fileEnd = Math.min(end, meta.last ?? -Infinity);
    const parts = start <= fileEnd
      ? [await this.file.processSeries({ ...q, start, end: fileEnd })]
      : [];
    const rows = new SeriesBuckets(q.keys, 1);
    for (const x of inRange) {
      rows.add(x.t, Array.isArray(x.row.processes) ? listOf(x.row.processes) : null);
    }
    parts.push(rows.result(start, end));
    return joinProcessSeries(q.keys, parts, start, end);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

const sameColumns = (a: string[], b: string[]) =>
  a.length === b.length && a.every((n, i) => n === b[i]);

function numberOf(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A journal's list of processes as records. */
function listOf(v: unknown): ProcessRecord[] {
  return (v as Record<string, unknown>[]).map(processEntry);
}

/** A journal value as the file's export writes it (a list: left out, as lists are). */
function scalar(v: unknown): unknown {
  return Array.isArray(v) ? null : v;
}
