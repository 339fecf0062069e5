// `sysmon run --control`: the tracer driven by another process (the dashboard's LiveTracer).
//
// Commands arrive as JSON lines on stdin; everything the tracer has to say leaves as JSON
// lines on stdout (protocol below). Closing stdin stops the tracer, with a final write, so a
// server that dies never leaves an orphan behind. Output is queued and written without ever
// blocking the sampling loop; if the reader falls far behind, sample lines are dropped
// (counted in `dropped`), never status, snapshot or stop lines.
//
// stdin:  {"cmd":"stop"}
//         {"cmd":"snapshot","id":1,"path":"/dir/name_0.parquet"}   (path optional: next free)
//         {"cmd":"status","id":2}
//         {"cmd":"metrics","id":3,"format":"openmetrics"}   (format optional: "prometheus")
// stdout: {"type":"started","output":…,"format":…,"utc":…,"sampleInterval":…,"writeInterval":…,"pid":…}
//         {"type":"notice","message":…}
//         {"type":"sample","status":{…},"dueMs":…,"lateMs":…,"at":…,"row":{…}}  (row with --control=rows)
//         {"type":"write","status":{…}}
//         {"type":"snapshot","id":…,"path":…,"rows":…,"bytes":…}  or  {"type":"snapshot","id":…,"error":…}
//         {"type":"status","id":…,"status":{…}}
//         {"type":"metrics","id":…,"format":…,"text":…}   the /metrics exposition (metrics.ts)
//         or {"type":"metrics","id":…,"error":…}
//         {"type":"error","message":…}           a command it could not understand; tracing goes on
//         {"type":"fatal","message":…}           bad options or output; exits 2
//         {"type":"stopped","status":{…},"seconds":…}   the last line; everything is written
import { basename, dirname, extname, join } from "node:path";
import { type ColumnDef, columnDef, type Row } from "../schema/columns.ts";
import { CsvSink } from "../store/csv_sink.ts";
import { removeQuietly, syncDir, tempPath } from "../store/atomic.ts";
import { traceMetadata } from "../store/metadata.ts";
import { idleStatus, type MonitorStatus, monitorToParquet, type SampleTiming } from "./monitor.ts";
import { foldIntervalMs, type MonitorOptions, validateOptions } from "./options.ts";
import { isRefusal } from "../schema/refusal.ts";
import { OutputError, ParquetSink } from "../store/parquet_sink.ts";
import { ParquetTrace, readFooter } from "../store/parquet_trace.ts";
import { hasSegments, listSegments, segmentPath } from "../store/segments.ts";
import { FIRST_ROW_KEY } from "../store/segments.ts";
import { fileSize, type TraceSink } from "../store/sink.ts";
import type { ExpositionFormat } from "../collect/exposition.ts";
import { TracerMetrics, withMetrics } from "./metrics.ts";

/** The status fields every status-bearing line carries. */
/** The tracer's status (MonitorStatus) as a line carries it, and what the protocol adds. */
export type ControlStatus = Omit<MonitorStatus, "lastWrite"> & {
  /** ISO time of the last successful write, null before it. */
  lastWrite: string | null;
  /** How late the last sample ran after its scheduled time, ms. */
  lateMs: number | null;
  /** Sample lines dropped because the reader fell behind. */
  dropped: number;
};

export type ControlMessage =
  | {
    type: "started";
    output: string;
    format: "parquet" | "csv";
    utc: boolean;
    sampleInterval: number;
    writeInterval: number;
    pid: number;
  }
  | { type: "notice"; message: string }
  | {
    type: "sample";
    status: ControlStatus;
    /** When the sample was scheduled and when it was taken, epoch ms. */
    dueMs: number;
    lateMs: number;
    at: number;
    row?: Row;
  }
  | { type: "write"; status: ControlStatus }
  | { type: "snapshot"; id?: unknown; path: string; rows: number; bytes: number | null }
  | { type: "snapshot"; id?: unknown; error: string }
  | { type: "status"; id?: unknown; status: ControlStatus }
  | { type: "metrics"; id?: unknown; format: ExpositionFormat; text: string }
  | { type: "metrics"; id?: unknown; error: string }
  | { type: "error"; message: string }
  | { type: "fatal"; message: string }
  | { type: "stopped"; status: ControlStatus; seconds: number };

export type ControlCommand =
  | { cmd: "stop" }
  | { cmd: "snapshot"; id?: unknown; path?: string }
  | { cmd: "status"; id?: unknown }
  | { cmd: "metrics"; id?: unknown; format: ExpositionFormat };

const encoder = new TextEncoder();
/** Queued output beyond which sample lines are dropped rather than delay anything. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Writes JSON lines to stdout in the background; never blocks the caller. */
class LineWriter {
  private queue: Uint8Array[] = [];
  private backlog = 0;
  private pumping: Promise<void> | null = null;
  private gone = false;
  dropped = 0;

  send(msg: ControlMessage, droppable = false) {
    if (this.gone) return;
    if (droppable && this.backlog > MAX_BACKLOG_BYTES) {
      this.dropped++;
      return;
    }
    const bytes = encoder.encode(JSON.stringify(msg) + "\n");
    this.queue.push(bytes);
    this.backlog += bytes.length;
    this.pumping ??= this.pump();
  }

  private async pump() {
    try {
      while (this.queue.length > 0) {
        const bytes = this.queue.shift()!;
        let off = 0;
        while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
        this.backlog -= bytes.length;
      }
    } catch (err) {
      // The reader went away: stdin closes too, which stops the tracer.
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
      this.gone = true;
      this.queue = [];
    } finally {
      this.pumping = null;
    }
  }

  async drain() {
    while (this.pumping) await this.pumping;
  }
}

/** Runs the tracer under control of another process; returns the exit code. */
export async function controlCommand(
  opts: MonitorOptions,
  ui: { foldInterval: number; rows: boolean },
): Promise<number> {
  const out = new LineWriter();
  const ac = new AbortController();
  const stop = () => ac.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let sink: TraceSink | null = null;
  let current: MonitorStatus | null = null;
  let lateMs: number | null = null;
  const metrics = new TracerMetrics();
  const status = (s: MonitorStatus): ControlStatus => ({
    output: s.output,
    samples: s.samples,
    rowsWritten: s.rowsWritten,
    fileBytes: s.fileBytes,
    lastWrite: s.lastWrite?.toISOString() ?? null,
    unavailable: [...s.unavailable],
    error: s.error,
    lateMs,
    dropped: out.dropped,
  });
  const handle = (line: string) => {
    let cmd: ControlCommand;
    try {
      cmd = parseCommand(line);
    } catch (err) {
      out.send({ type: "error", message: (err as Error).message });
      return;
    }
    if (cmd.cmd === "stop") ac.abort();
    else if (cmd.cmd === "metrics") {
      try {
        const text = metrics.render(cmd.format);
        out.send({ type: "metrics", id: cmd.id, format: cmd.format, text });
      } catch (err) {
        out.send({ type: "metrics", id: cmd.id, error: (err as Error).message });
      }
    } else if (cmd.cmd === "status") {
      out.send({
        type: "status",
        id: cmd.id,
        status: status(current ?? idleStatus(opts.outputFile ?? "")),
      });
    } else if (cmd.cmd === "snapshot") {
      if (sink === null) {
        out.send({ type: "snapshot", id: cmd.id, error: "the tracer has not started yet" });
        return;
      }
      try {
        const r = snapshotSink(sink, cmd.path ?? nextSnapshotPath(sink.path));
        out.send({ type: "snapshot", id: cmd.id, ...r });
      } catch (err) {
        out.send({ type: "snapshot", id: cmd.id, error: (err as Error).message });
      }
    }
  };
  const done = new AbortController();
  const reading = readLines(Deno.stdin.readable, handle, done.signal).finally(stop);
  try {
    const foldMs = foldIntervalMs(ui.foldInterval);
    const o = validateOptions(opts);
    const summary = await monitorToParquet(
      { ...opts, signal: ac.signal },
      withMetrics(metrics, {
        foldIntervalMs: foldMs,
        onOpen: (s) => {
          sink = s;
          out.send({
            type: "started",
            output: o.outputFile,
            format: o.format,
            utc: o.useUtc,
            sampleInterval: o.sampleInterval,
            writeInterval: o.writeInterval,
            pid: Deno.pid,
          });
        },
        onNotice: (message) => out.send({ type: "notice", message }),
        onSample: (s, row, timing: SampleTiming) => {
          current = s;
          lateMs = timing.lateMs;
          out.send({
            type: "sample",
            status: status(s),
            dueMs: timing.dueMs,
            lateMs: timing.lateMs,
            at: Date.now(),
            ...(ui.rows ? { row: scalars(row) } : {}),
          }, true);
        },
        onWrite: (s) => {
          current = s;
          out.send({ type: "write", status: status(s) });
        },
      }),
    );
    current = summary;
    out.send({ type: "stopped", status: status(summary), seconds: summary.seconds });
    await out.drain();
    return summary.error ? 1 : 0;
  } catch (err) {
    if (isRefusal(err, "bad_input") || err instanceof OutputError) {
      out.send({ type: "fatal", message: err.message });
      await out.drain();
      return 2;
    }
    throw err;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    done.abort(); // stop reading stdin, so that the process can exit
    await reading;
  }
}

/** Parses one command line; throws with a message naming what is wrong. */
export function parseCommand(line: string): ControlCommand {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`not a JSON command: ${line.slice(0, 80)}`);
  }
  if (typeof v !== "object" || v === null) throw new Error("a command must be a JSON object");
  const c = v as Record<string, unknown>;
  if (c.cmd === "stop") return { cmd: "stop" };
  if (c.cmd === "status") return { cmd: "status", id: c.id };
  if (c.cmd === "metrics") {
    if (c.format !== undefined && c.format !== "prometheus" && c.format !== "openmetrics") {
      throw new Error('metrics: format must be "prometheus" or "openmetrics"');
    }
    return { cmd: "metrics", id: c.id, format: (c.format as ExpositionFormat) ?? "prometheus" };
  }
  if (c.cmd === "snapshot") {
    if (c.path !== undefined && typeof c.path !== "string") {
      throw new Error("snapshot: path must be a string");
    }
    return { cmd: "snapshot", id: c.id, path: c.path as string | undefined };
  }
  throw new Error(`unknown command ${JSON.stringify(c.cmd)} (stop, snapshot, status, metrics)`);
}

/** Calls `onLine` for each line of a byte stream; resolves when it ends or `signal` aborts. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reader = stream.getReader();
  const cancel = () => reader.cancel().catch(() => {/* already closed */});
  signal?.addEventListener("abort", cancel, { once: true });
  const decoder = new TextDecoder();
  let rest = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line !== "") onLine(line);
      }
    }
    rest += decoder.decode();
    if (rest.trim() !== "" && !signal?.aborted) onLine(rest.trim());
  } finally {
    signal?.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}

/**
 * The next snapshot name beside `output`: `name_0.parquet`, then one more than the highest
 * number already there (so a later snapshot always sorts after an earlier one).
 */
export function nextSnapshotPath(output: string): string {
  const ext = extname(output);
  const stem = basename(output, ext);
  const dir = dirname(output);
  const pattern = new RegExp(`^${escapeRegExp(stem)}_(\\d+)${escapeRegExp(ext)}$`);
  let next = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const m = pattern.exec(e.name);
      if (m) next = Math.max(next, Number(m[1]) + 1);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return join(dir, `${stem}_${next}${ext}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Writes everything `sink` holds (the rows in its file, its journal and its buffer) to a NEW
 * file `dest`, a complete trace of its own. Never touches the sink's own file. Throws with a
 * message for the user.
 */
export function snapshotSink(
  sink: TraceSink,
  dest: string,
): { path: string; rows: number; bytes: number | null } {
  if (fileSize(dest) !== null) throw new Error(`${dest} already exists; snapshots never replace`);
  if (sink instanceof ParquetSink) return snapshotParquet(sink, dest);
  if (sink instanceof CsvSink) {
    const report = sink.write();
    if (report.error !== null) throw new Error(`cannot snapshot: ${report.error}`);
    const staging = tempPath(dest);
    try {
      Deno.copyFileSync(sink.path, staging);
      Deno.renameSync(staging, dest);
    } catch (err) {
      removeQuietly(staging);
      throw new Error(`cannot write ${dest}: ${(err as Error).message}`);
    }
    syncDir(dirname(dest));
    return { path: dest, rows: report.rowsWritten, bytes: fileSize(dest) };
  }
  throw new Error("this output does not support snapshots");
}

function snapshotParquet(sink: ParquetSink, dest: string) {
  sink.write(); // buffered rows join the trace (and the journal); a failed write keeps them
  const trace = sink.trace;
  if (sink.rows === 0) throw new Error("nothing sampled yet; no snapshot written");
  if (hasSegments(sink.path) || trace.path !== sink.path) return snapshotSegments(sink, dest);
  const staging = tempPath(dest);
  try {
    let snap: ParquetTrace;
    let inFile = 0;
    let kv: Record<string, string> = {};
    if (fileSize(sink.path) !== null) {
      Deno.copyFileSync(sink.path, staging);
      const { meta } = readFooter(staging);
      for (const e of meta.key_value_metadata ?? []) kv[e.key] = e.value ?? "";
      snap = ParquetTrace.open({ path: staging, utc: trace.utc });
      inFile = snap.rows;
    } else {
      snap = new ParquetTrace({
        path: staging,
        utc: trace.utc,
        summaryWidth: trace.summaryWidth,
      });
    }
    // The file holds the rows of the last fold; the rest are new.
    const rows: Row[] = [];
    for (let i = Math.max(0, inFile - trace.foldedRows); i < trace.unfoldedCount; i++) {
      rows.push(trace.unfoldedRow(i));
    }
    if (rows.length > 0 || inFile === 0) {
      snap.add(rows, defFor);
      const info = {
        utc: trace.utc,
        sampleInterval: sink.header.sample_interval_s,
        traceId: sink.header.trace_id,
      };
      kv = { ...kv, ...traceMetadata(info, snap.columns) };
      snap.fold({ ...kv, "sysmon.snapshot_of": basename(sink.path) });
    }
    Deno.renameSync(staging, dest);
    syncDir(dirname(dest));
    return { path: dest, rows: snap.rows, bytes: fileSize(dest) };
  } catch (err) {
    removeQuietly(staging);
    throw new Error(`cannot write snapshot ${dest}: ${(err as Error).message}`);
  }
}

/**
 * A snapshot of a trace in several files: a copy of each (`dest`, `dest.0001.parquet`, …),
 * and one more file with the rows not folded yet. Each is staged, then renamed in place.
 */
function snapshotSegments(sink: ParquetSink, dest: string) {
  const trace = sink.trace;
  const files = listSegments(sink.path);
  const staged: [string, string][] = [];
  try {
    for (const f of files) {
      const to = segmentPath(dest, f.n);
      if (fileSize(to) !== null) throw new Error(`${to} already exists`);
      staged.push([tempPath(to), to]);
      Deno.copyFileSync(f.path, staged.at(-1)![0]);
    }
    if (trace.unfoldedCount > 0) {
      const to = segmentPath(dest, (files.at(-1)?.n ?? -1) + 1);
      staged.push([tempPath(to), to]);
      const snap = new ParquetTrace({
        path: staged.at(-1)![0],
        utc: trace.utc,
        summaryWidth: trace.summaryWidth,
      });
      const rows: Row[] = [];
      for (let i = 0; i < trace.unfoldedCount; i++) rows.push(trace.unfoldedRow(i));
      snap.add(rows, defFor);
      const info = {
        utc: trace.utc,
        sampleInterval: sink.header.sample_interval_s,
        traceId: sink.header.trace_id,
      };
      snap.fold({
        ...traceMetadata(info, snap.columns),
        [FIRST_ROW_KEY]: String(sink.rows - rows.length),
        "sysmon.snapshot_of": basename(sink.path),
      });
    }
    for (const [tmp, to] of staged) Deno.renameSync(tmp, to);
    syncDir(dirname(dest));
    const bytes = staged.reduce((sum, [, to]) => sum + (fileSize(to) ?? 0), 0);
    return { path: dest, rows: sink.rows, bytes };
  } catch (err) {
    for (const [tmp] of staged) removeQuietly(tmp);
    throw new Error(`cannot write snapshot ${dest}: ${(err as Error).message}`);
  }
}

/** The row without its nested columns (per-process lists): what live charts and watches use. */
function scalars(row: Row): Row {
  const out: Row = {};
  for (const k in row) {
    const v = row[k];
    if (!Array.isArray(v)) out[k] = v ?? null;
  }
  return out;
}

/** Columns sysmon does not know (a future version's) are kept as doubles. */
function defFor(name: string): ColumnDef {
  return columnDef(name) ?? { name, kind: "double", unit: "", help: "" };
}
