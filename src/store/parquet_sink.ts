// The Parquet output of `sysmon run`: a journal takes every write interval's rows
// (cheap, fsynced), and a fold merges them into the Parquet files on a schedule: the trace's
// newest segment (segments.ts), or a piece beside it holding only the fold's rows.
import { type ColumnDef, columnDef, type Row } from "../schema/columns.ts";
import {
  Journal,
  type JournalHeader,
  journalPath,
  type JournalRow,
  readJournal,
} from "./journal.ts";
import { newTraceId, traceMetadata } from "./metadata.ts";
import { removeQuietly, removeStaleTemps } from "./atomic.ts";
import { FIRST_ROW_KEY, listSegments, segmentPath, traceBytes } from "./segments.ts";
import { nextSegment, OutputError, type TraceFiles, traceFiles } from "./trace_files.ts";
import { summaryWidthFor } from "./summary_block.ts";
import { dropExecutablePages, releaseMemory } from "./release.ts";
import { ParquetTrace, type ParquetTraceOptions } from "./parquet_trace.ts";
import { describeWriteError, type TraceSink, type WriteReport } from "./sink.ts";

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

export { OutputError };

/** Pieces (files of one fold's rows) a segment may have before a fold merges them into it. */
const MAX_PIECES = 24;

export class ParquetSink implements TraceSink {
  /** The trace's path: its first file, and where its journal is. */
  readonly path: string;
  readonly header: JournalHeader;
  /** Messages from opening the output (a journal folded in, a journal set aside). */
  readonly notices: string[];
  private readonly journal: Journal;
  private readonly opts: ParquetSinkOptions;
  /** The segment rows go to, its number, and the rows of the files before it. */
  private seg: { trace: ParquetTrace; n: number; before: number; written: boolean };
  /** Pieces written since the segment's last fold. */
  private pieces: string[] = [];
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
    seg: ParquetSink["seg"],
    traceId: string,
    notices: string[],
  ) {
    this.opts = opts;
    this.path = opts.path;
    this.seg = seg;
    this.notices = notices;
    this.header = {
      sysmon_journal: 1,
      trace_id: traceId,
      utc: opts.utc,
      sample_interval_s: opts.sampleInterval,
    };
    this.journal = new Journal(journalPath(opts.path));
    this.nextSeq = this.rows;
    this.durable = this.nextSeq;
  }

  /** The segment rows are written to now. */
  get trace(): ParquetTrace {
    return this.seg.trace;
  }

  /** Rows of the whole trace: in its files, and not folded yet. */
  get rows(): number {
    return this.seg.before + this.seg.trace.rows;
  }

  /**
   * Opens the output: folds in a journal left by a killed run, appends to a trace
   * sysmon wrote, refuses anything else.
   */
  static open(opts: ParquetSinkOptions): ParquetSink {
    for (const s of listSegments(opts.path)) removeStaleTemps(s.path);
    removeStaleTemps(opts.path);
    const notices = recoverJournal(opts.path);
    const found = traceFiles(opts.path);
    let traceId = newTraceId();
    if (found) {
      notices.push(...found.notices);
      const zone = found.kv.get("sysmon.timezone");
      if (zone !== (opts.utc ? "UTC" : "local")) {
        throw new OutputError(
          `${opts.path} holds ${zone} timestamps; run ${
            opts.utc ? "without" : "with"
          } --utc to append to it, or choose another --output`,
        );
      }
      traceId = found.kv.get("sysmon.trace_id")!;
      const files = found.files.length > 1 ? ` in ${found.files.length} files` : "";
      notices.push(`appending to ${opts.path} (${found.rows} rows${files})`);
    }
    const seg = openSegment(opts.path, found, traceOptions(opts));
    const sink = new ParquetSink(opts, seg, traceId, notices);
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
        this.fold(final);
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
      fileBytes: traceBytes(this.path),
      error: this.withDrops(error),
    };
  }

  /**
   * Writes the rows since the last fold, then starts the journal over: it holds only rows
   * the files do not. The segment's file is written whole on its first fold, when its row
   * group is full (then the next segment starts), on the last write, and after MAX_PIECES
   * pieces; between those, a fold writes its rows as a piece beside it. A journal that
   * cannot start over (disk full) is marked stale and rewritten before it takes rows again;
   * the rows are in the files meanwhile.
   */
  private fold(final: boolean) {
    const { trace, before } = this.seg;
    const whole = final || !this.seg.written || this.pieces.length >= MAX_PIECES ||
      trace.openRows + trace.unfoldedCount >= trace.rowGroupRows;
    if (whole) this.foldWhole();
    else {
      const path = segmentPath(this.path, this.seg.n + this.pieces.length + 1);
      if (trace.foldPiece(this.metadata(before + trace.foldedRows), path)) this.pieces.push(path);
    }
    if (trace.lostFile) {
      trace.lostFile = false;
      this.notices.push(`${trace.path} disappeared or was replaced; it now starts again`);
    }
    this.unjournaled = [];
    this.nextSeq = this.rows;
    this.durable = this.nextSeq;
    try {
      this.rejournal();
    } catch {
      this.journalStale = true;
    }
  }

  /** Writes the segment's file whole, removes its pieces, and moves on once it is full. */
  private foldWhole() {
    const { trace, before, n } = this.seg;
    if (n > 0 && !this.seg.written && trace.rows === 0) return; // a segment with nothing yet
    const sealed = trace.sealedCount;
    trace.fold(this.metadata(before));
    this.seg.written = true;
    // Its rows are in the segment now (readers skip a piece a segment holds as well).
    for (const p of this.pieces.splice(0)) removeQuietly(p);
    if (trace.sealedCount > sealed) {
      const next = segmentPath(this.path, n + 1);
      this.seg = {
        trace: new ParquetTrace({ ...traceOptions(this.opts), path: next }),
        n: n + 1,
        before: before + trace.rows,
        written: false,
      };
    }
  }

  private metadata(firstRow: number): Record<string, string> {
    const meta = traceMetadata(this.info(), this.trace.columns, this.extra);
    return { ...meta, [FIRST_ROW_KEY]: String(firstRow) };
  }

  /** A fresh journal holding the rows not folded into the file yet. */
  private rejournal() {
    this.journalStale = true; // until the new journal is whole
    this.journal.reset(this.header);
    const base = this.seg.before + this.trace.foldedRows;
    const rows: JournalRow[] = [];
    for (let i = 0; i < this.trace.unfoldedCount; i++) {
      rows.push({ seq: base + i, row: this.trace.unfoldedRow(i) });
    }
    this.journal.append(rows);
    this.unjournaled = [];
    this.nextSeq = this.rows;
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
      this.nextSeq = this.rows;
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

/** The segment new rows go to: the last file of `found` continued, or a new file. */
function openSegment(
  base: string,
  found: TraceFiles | null,
  opts: ParquetTraceOptions,
): ParquetSink["seg"] {
  const next = nextSegment(base, found, opts.rowGroupRows ?? 3600);
  const trace = next.continues
    ? ParquetTrace.open({ ...opts, path: next.path })
    : new ParquetTrace({ ...opts, path: next.path });
  return { trace, n: next.n, before: next.before, written: next.continues };
}

/**
 * Folds a journal left beside `path` (by a killed or failed run) into the trace's files,
 * then removes it. A journal of another trace is set aside, never applied.
 * Returns what it did, for the user.
 */
export function recoverJournal(path: string): string[] {
  const jpath = journalPath(path);
  const j = readJournal(jpath);
  if (j === null) return [];
  if (j.header === null) {
    const aside = `${jpath}.unreadable-${Date.now()}`;
    Deno.renameSync(jpath, aside);
    return [`${jpath} has no valid header; moved to ${aside}`];
  }
  const found = traceFiles(path);
  const notices = [...(found?.notices ?? [])];
  if (found && found.kv.get("sysmon.trace_id") !== j.header.trace_id) {
    const aside = `${jpath}.orphaned-${Date.now()}`;
    Deno.renameSync(jpath, aside);
    return [...notices, `${jpath} belongs to another trace than ${path}; moved to ${aside}`];
  }
  const total = found?.rows ?? 0;
  const missing = j.rows.filter((r) => r.seq >= total).sort((a, b) => a.seq - b.seq);
  if (missing.length > 0) {
    const seg = openSegment(path, found, {
      path,
      utc: j.header.utc,
      summaryWidth: summaryWidthFor(j.header.sample_interval_s),
    });
    seg.trace.add(missing.map((r) => r.row), defFor);
    const info = {
      utc: j.header.utc,
      sampleInterval: j.header.sample_interval_s,
      traceId: j.header.trace_id,
    };
    seg.trace.fold({
      ...traceMetadata(info, seg.trace.columns),
      [FIRST_ROW_KEY]: String(seg.before),
    });
    notices.push(`recovered ${samples(missing.length)} from ${jpath} into ${seg.trace.path}`);
  } else {
    const all = j.rows.length === 1 ? "its 1 sample was" : `its ${j.rows.length} samples were all`;
    notices.push(`${jpath}: ${all} in ${path} already; removed it`);
  }
  if (j.tornBytes > 0) notices.push(`${jpath}: ignored ${j.tornBytes} bytes of a cut-short write`);
  Deno.removeSync(jpath);
  return notices;
}

const samples = (n: number) => `${n} sample${n === 1 ? "" : "s"}`;
