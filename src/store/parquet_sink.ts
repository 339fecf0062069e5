// The Parquet output of `sysmon run`: a journal takes every write interval's rows
// (cheap, fsynced), and a fold merges them into the Parquet file on a schedule.
import { type ColumnDef, columnDef, type Row } from "../schema/columns.ts";
import {
  Journal,
  type JournalHeader,
  journalPath,
  type JournalRow,
  readJournal,
} from "./journal.ts";
import { newTraceId, traceMetadata } from "./metadata.ts";
import { removeStaleTemps } from "./atomic.ts";
import { summaryWidthFor } from "./summary_block.ts";
import { dropExecutablePages, releaseMemory } from "./release.ts";
import { ParquetTrace, readFooter } from "./parquet_trace.ts";
import { describeWriteError, fileSize, type TraceSink, type WriteReport } from "./sink.ts";

export interface ParquetSinkOptions {
  path: string;
  utc: boolean;
  sampleInterval: number;
  /** How often the journal is folded into the Parquet file (ms); at most 5 minutes. */
  foldIntervalMs?: number;
  rowGroupRows?: number;
  /** Rows kept in memory while writes fail; the oldest go beyond this. */
  maxBufferedRows?: number;
  now?: () => number;
}

/** A problem with the output file that stops `run` before sampling starts. */
export class OutputError extends Error {}

export class ParquetSink implements TraceSink {
  readonly path: string;
  readonly trace: ParquetTrace;
  readonly header: JournalHeader;
  /** Messages from opening the output (a journal folded in, a journal set aside). */
  readonly notices: string[];
  private readonly journal: Journal;
  private readonly opts: ParquetSinkOptions;
  private buffer: Row[] = [];
  private unjournaled: JournalRow[] = [];
  private nextSeq: number;
  private durable: number;
  private lastFold = -Infinity;
  private lastRelease = -Infinity;
  private dropped = 0;
  /** The journal may hold rows under old numbers or a torn tail: rewrite it before use. */
  private journalStale = false;
  private extra: Record<string, string> = {};

  private constructor(
    opts: ParquetSinkOptions,
    trace: ParquetTrace,
    traceId: string,
    notices: string[],
  ) {
    this.opts = opts;
    this.path = opts.path;
    this.trace = trace;
    this.notices = notices;
    this.header = {
      sysmon_journal: 1,
      trace_id: traceId,
      utc: opts.utc,
      sample_interval_s: opts.sampleInterval,
    };
    this.journal = new Journal(journalPath(opts.path));
    this.nextSeq = trace.rows;
    this.durable = trace.rows;
  }

  /**
   * Opens the output: folds in a journal left by a killed run, appends to a trace
   * sysmon wrote, refuses anything else.
   */
  static open(opts: ParquetSinkOptions): ParquetSink {
    removeStaleTemps(opts.path);
    const notices = recoverJournal(opts.path);
    let trace: ParquetTrace;
    let traceId = newTraceId();
    if (fileSize(opts.path) !== null) {
      const kv = sysmonMetadata(opts.path);
      const zone = kv.get("sysmon.timezone");
      if (zone !== (opts.utc ? "UTC" : "local")) {
        throw new OutputError(
          `${opts.path} holds ${zone} timestamps; run ${
            opts.utc ? "without" : "with"
          } --utc to append to it, or choose another --output`,
        );
      }
      trace = ParquetTrace.open(traceOptions(opts));
      traceId = kv.get("sysmon.trace_id")!;
      notices.push(`appending to ${opts.path} (${trace.rows} rows)`);
    } else {
      trace = new ParquetTrace(traceOptions(opts));
    }
    const sink = new ParquetSink(opts, trace, traceId, notices);
    sink.journal.reset(sink.header);
    return sink;
  }

  add(row: Row) {
    this.buffer.push(row);
  }

  annotate(extra: Record<string, string>) {
    this.extra = { ...this.extra, ...extra };
  }

  write(): WriteReport {
    return this.flush(false);
  }

  close(): WriteReport {
    const report = this.flush(true);
    if (report.error === null) this.journal.remove();
    return report;
  }

  private flush(final: boolean): WriteReport {
    const now = (this.opts.now ?? Date.now)();
    for (const row of this.buffer) this.unjournaled.push({ seq: this.nextSeq++, row });
    this.trace.add(this.buffer, defFor);
    this.buffer = [];
    let error: string | null = null;
    try {
      if (this.journalStale) this.rejournal(); // holds every unfolded row
      else this.journal.append(this.unjournaled);
      this.unjournaled = [];
      this.durable = this.nextSeq;
    } catch (err) {
      error = describeWriteError(this.journal.path, err);
    }
    const due = now - this.lastFold >= (this.opts.foldIntervalMs ?? 300_000);
    let folded = false;
    if (final || due || error !== null) {
      try {
        this.fold();
        this.lastFold = now;
        folded = true;
        error = null; // the file itself holds every row now
      } catch (err) {
        error ??= describeWriteError(this.path, err);
      }
    }
    if (error !== null) this.bound();
    // Rows live until their write, long enough to reach V8's old generation, which grows
    // until a full collection: one a minute keeps a trace's memory flat (about 10 ms). A
    // fold's zstd buffers go back to the system at once, and the code it ran leaves memory.
    if (folded || now - this.lastRelease >= RELEASE_EVERY_MS) {
      releaseMemory();
      this.lastRelease = now;
    }
    if (folded) dropExecutablePages();
    return {
      rowsWritten: this.durable,
      fileBytes: fileSize(this.path),
      error: this.withDrops(error),
    };
  }

  /**
   * Writes every row into the file, then starts the journal over: it holds only rows the
   * file does not. A journal that cannot start over (disk full) is marked stale and
   * rewritten before it takes rows again; the rows are in the file meanwhile.
   */
  private fold() {
    this.trace.fold(traceMetadata(this.info(), this.trace.columns, this.extra));
    if (this.trace.lostFile) {
      this.trace.lostFile = false;
      this.notices.push(`${this.path} disappeared or was replaced; it now starts again`);
    }
    this.unjournaled = [];
    this.nextSeq = this.trace.rows;
    this.durable = this.nextSeq;
    try {
      this.rejournal();
    } catch {
      this.journalStale = true;
    }
  }

  /** A fresh journal holding the rows not folded into the file yet. */
  private rejournal() {
    this.journalStale = true; // until the new journal is whole
    this.journal.reset(this.header);
    const base = this.trace.foldedRows;
    const rows: JournalRow[] = [];
    for (let i = 0; i < this.trace.unfoldedCount; i++) {
      rows.push({ seq: base + i, row: this.trace.unfoldedRow(i) });
    }
    this.journal.append(rows);
    this.unjournaled = [];
    this.nextSeq = this.trace.rows;
    this.journalStale = false;
  }

  /** Keeps memory bounded while writes fail. */
  private bound() {
    const max = this.opts.maxBufferedRows ?? 20_000;
    const n = this.trace.dropOldest(max);
    if (n > 0) {
      // Sequence numbers shift: the journal is rewritten before it takes rows again.
      this.dropped += n;
      this.unjournaled = [];
      this.nextSeq = this.trace.rows;
      this.journalStale = true;
    }
  }

  private withDrops(error: string | null): string | null {
    if (error === null || this.dropped === 0) return error;
    return `${error}; ${this.dropped} oldest samples dropped to bound memory`;
  }

  private info() {
    return {
      utc: this.opts.utc,
      sampleInterval: this.opts.sampleInterval,
      traceId: this.header.trace_id,
    };
  }
}

/**
 * A fold leaves a burst of garbage; where V8 exposes gc() (the tasks run the tracer with
 * --expose-gc) one full collection now keeps the resident size flat between folds.
 */

const RELEASE_EVERY_MS = 60_000;

function traceOptions(opts: ParquetSinkOptions) {
  return {
    path: opts.path,
    utc: opts.utc,
    rowGroupRows: opts.rowGroupRows,
    summaryWidth: summaryWidthFor(opts.sampleInterval),
  };
}

/** Columns sysmon does not know (a future version's) are kept as doubles. */
function defFor(name: string): ColumnDef {
  return columnDef(name) ?? { name, kind: "double", unit: "", help: "" };
}

/** The sysmon.* metadata of a trace; refuses a file sysmon did not write. */
export function sysmonMetadata(path: string): Map<string, string> {
  let kv: Map<string, string>;
  try {
    const { meta } = readFooter(path);
    kv = new Map((meta.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
  } catch (err) {
    throw new OutputError(
      `${path} exists and is not a readable Parquet file (${(err as Error).message}); ` +
        `choose another --output or move it away`,
    );
  }
  if (!kv.has("sysmon.trace_id")) {
    throw new OutputError(
      `${path} exists and was not written by sysmon; sysmon appends only to its own traces. ` +
        `Choose another --output or move the file away`,
    );
  }
  return kv;
}

/**
 * Folds a journal left beside `path` (by a killed or failed run) into the file,
 * then removes it. A journal of another trace is set aside, never applied.
 * Returns what it did, for the user.
 */
export function recoverJournal(path: string): string[] {
  const jpath = journalPath(path);
  const j = readJournal(jpath);
  if (j === null) return [];
  const notices: string[] = [];
  if (j.header === null) {
    const aside = `${jpath}.unreadable-${Date.now()}`;
    Deno.renameSync(jpath, aside);
    return [`${jpath} has no valid header; moved to ${aside}`];
  }
  let trace: ParquetTrace;
  const opts = {
    path,
    utc: j.header.utc,
    summaryWidth: summaryWidthFor(j.header.sample_interval_s),
  };
  if (fileSize(path) !== null) {
    const kv = sysmonMetadata(path);
    if (kv.get("sysmon.trace_id") !== j.header.trace_id) {
      const aside = `${jpath}.orphaned-${Date.now()}`;
      Deno.renameSync(jpath, aside);
      return [`${jpath} belongs to another trace than ${path}; moved to ${aside}`];
    }
    trace = ParquetTrace.open(opts);
  } else {
    trace = new ParquetTrace(opts);
  }
  const missing = j.rows.filter((r) => r.seq >= trace.rows).sort((a, b) => a.seq - b.seq);
  if (missing.length > 0) {
    trace.add(missing.map((r) => r.row), defFor);
    const info = {
      utc: j.header.utc,
      sampleInterval: j.header.sample_interval_s,
      traceId: j.header.trace_id,
    };
    trace.fold(traceMetadata(info, trace.columns));
    notices.push(`recovered ${missing.length} samples from ${jpath} into ${path}`);
  } else {
    notices.push(`${jpath}: its ${j.rows.length} samples were all in ${path} already; removed it`);
  }
  if (j.tornBytes > 0) notices.push(`${jpath}: ignored ${j.tornBytes} bytes of a cut-short write`);
  Deno.removeSync(jpath);
  return notices;
}
