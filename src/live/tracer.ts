// Live tracing for the dashboard: the same tracer as `sysmon run`, in a child process
// (`sysmon run --control=rows`), so that no request the server handles can delay a sample.
// LiveTracer starts, stops, resets and snapshots it and hands out its rows as they come;
// FileFollower gives the rows of a trace that another `sysmon run` is writing.
import { Refusal } from "../schema/refusal.ts";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { Row } from "../schema/columns.ts";
import {
  type ControlMessage,
  type ControlStatus,
  nextSnapshotPath,
  readLines,
} from "../tracer/control.ts";
import { journalPath, readJournal } from "../store/journal.ts";
import { fileSize } from "../store/sink.ts";
import { TRACER_V8_FLAGS } from "../tracer/v8_flags.ts";
import { type SysmonCommand, sysmonCommand } from "./sysmon_command.ts";
import type { LiveState } from "../views/model_types.ts";
export type { LiveState } from "../views/model_types.ts";

/** What the page (or `sysmon serve`) starts tracing with; `output` is already confined. */
export interface LiveStartOptions {
  output: string;
  sampleInterval: number;
  writeInterval: number;
  enableGpu: boolean;
  enableDocker: boolean;
  useUtc: boolean;
  /** Seconds between folds of the journal into the file (default 300, as `run`). */
  foldInterval?: number;
}

/** One sample from the live tracer. */
export interface LiveRow {
  /** When it was taken, epoch ms UTC. */
  at: number;
  /** When it was scheduled, epoch ms, and how late it ran (ms; the sampling jitter). */
  dueMs: number;
  lateMs: number;
  /** Its number in this run, from 1. */
  sample: number;
  row: Row;
}

export interface LiveStatus {
  state: LiveState;
  running: boolean;
  options: LiveStartOptions | null;
  pid: number | null;
  /** ISO time the current (or last) run started. */
  startedAt: string | null;
  samples: number;
  rowsWritten: number;
  fileBytes: number | null;
  lastWrite: string | null;
  unavailable: string[];
  /** The last write's failure, or why the tracer failed. */
  error: string | null;
  lateMs: number | null;
  /** The tracer's recent notices (journal recovered, appending to …, GPU absent). */
  notices: string[];
  exitCode: number | null;
}

interface Pending {
  resolve: (m: ControlMessage) => void;
  reject: (e: Error) => void;
}

const MAX_NOTICES = 20;
const MAX_QUEUED_ROWS = 1000;

/** Controls one tracer child at a time. */
export class LiveTracer {
  private child: Deno.ChildProcess | null = null;
  private stdin: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private st: LiveStatus = blankStatus();
  private listeners = new Set<(r: LiveRow) => void>();
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: Promise<void> = Promise.resolve();
  private started: Pending | null = null;
  private stderrTail: string[] = [];
  private stoppedCleanly = false;
  private readonly command: SysmonCommand;
  private readonly stopTimeoutMs: number;
  private readonly startTimeoutMs: number;

  constructor(
    opts: {
      command?: SysmonCommand;
      stopTimeoutMs?: number;
      startTimeoutMs?: number;
    } = {},
  ) {
    this.command = opts.command ?? sysmonCommand(TRACER_V8_FLAGS);
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 60_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  }

  status(): LiveStatus {
    return structuredClone(this.st);
  }

  get running(): boolean {
    return this.st.state === "running" || this.st.state === "starting";
  }

  /** Starts tracing; resolves once the output is open, throws a Refusal when it cannot be. */
  async start(o: LiveStartOptions): Promise<LiveStatus> {
    if (this.st.state === "stopping") await this.exited;
    if (this.running) {
      throw new Refusal(
        "conflict",
        `already tracing into ${this.st.options?.output}; stop it first`,
      );
    }
    const args = [
      ...this.command.args,
      "run",
      "--control=rows",
      "--output",
      o.output,
      "--sample-interval",
      String(o.sampleInterval),
      "--write-interval",
      String(o.writeInterval),
      "--fold-interval",
      String(o.foldInterval ?? 300),
      ...(o.useUtc ? ["--utc"] : []),
      ...(o.enableGpu ? [] : ["--no-gpu"]),
      ...(o.enableDocker ? [] : ["--no-docker"]),
    ];
    const child = new Deno.Command(this.command.cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.stdin = child.stdin.getWriter();
    this.stderrTail = [];
    this.stoppedCleanly = false;
    this.st = {
      ...blankStatus(),
      state: "starting",
      running: true,
      options: { ...o },
      pid: child.pid,
      startedAt: new Date().toISOString(),
    };
    const ready = new Promise<ControlMessage>((resolve, reject) => {
      this.started = { resolve, reject };
    });
    const out = readLines(child.stdout, (line) => this.onLine(line));
    const err = readLines(child.stderr, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    this.exited = Promise.all([child.status, out, err]).then(([s]) => this.onExit(child, s.code));
    const timer = setTimeout(() => {
      this.st.error = `the tracer did not start within ${this.startTimeoutMs / 1000} s`;
      try {
        child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, this.startTimeoutMs);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    return this.status();
  }

  /** Stops tracing: the tracer writes everything it has, then exits. */
  async stop(): Promise<LiveStatus> {
    const child = this.child;
    if (child === null) return this.status();
    if (this.st.state !== "stopping") {
      this.st.state = "stopping";
      await this.send({ cmd: "stop" });
      await this.closeStdin(); // end of input means stop as well
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, this.stopTimeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
    return this.status();
  }

  /**
   * Reset (the original's "Reset Buffer"): stops, keeps what was traced as the next
   * `name_N.parquet` beside the output (nothing is discarded), and starts again on an empty
   * output with the same settings if it was running.
   */
  async reset(): Promise<{ archived: string | null; status: LiveStatus }> {
    const o = this.st.options;
    if (o === null) throw new Refusal("conflict", "nothing to reset: tracing has not been started");
    const wasRunning = this.running;
    await this.stop();
    if (this.st.error !== null && fileSize(`${o.output}.journal`) !== null) {
      throw new Refusal(
        "conflict",
        `not reset: the last write failed (${this.st.error}); the journal beside ` +
          `${o.output} still holds rows`,
      );
    }
    let archived: string | null = null;
    if (fileSize(o.output) !== null) {
      archived = nextSnapshotPath(o.output);
      Deno.renameSync(o.output, archived);
      const meta = `${o.output}.meta.json`; // a CSV output's metadata goes with it
      if (fileSize(meta) !== null) Deno.renameSync(meta, `${archived}.meta.json`);
    }
    if (wasRunning) await this.start(o);
    return { archived, status: this.status() };
  }

  /** Writes everything traced so far to a new file beside the output (`name_N.parquet`). */
  async snapshot(path?: string): Promise<{ path: string; rows: number; bytes: number | null }> {
    if (this.st.state !== "running") {
      throw new Refusal("conflict", "not tracing; start tracing first");
    }
    if (this.st.samples === 0) {
      throw new Refusal("conflict", "nothing sampled yet; no snapshot written");
    }
    const reply = await this.request({ cmd: "snapshot", path });
    if (reply.type !== "snapshot") throw new Refusal("failed", "unexpected reply from the tracer");
    if ("error" in reply) throw new Refusal("failed", reply.error);
    return { path: reply.path, rows: reply.rows, bytes: reply.bytes };
  }

  /** Calls `fn` with every new row; returns the unsubscribe function. */
  subscribe(fn: (r: LiveRow) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** New rows as an async iterator, until `signal` aborts (a slow reader loses the oldest). */
  async *rows(signal?: AbortSignal): AsyncGenerator<LiveRow> {
    const queue: LiveRow[] = [];
    let wake: (() => void) | null = null;
    const off = this.subscribe((r) => {
      queue.push(r);
      if (queue.length > MAX_QUEUED_ROWS) queue.shift();
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      while (!signal?.aborted) {
        if (queue.length === 0) {
          await new Promise<void>((r) => (wake = r));
          wake = null;
          continue;
        }
        yield queue.shift()!;
      }
    } finally {
      off();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private async request(
    cmd: { cmd: "snapshot"; path?: string } | { cmd: "status" },
  ): Promise<ControlMessage> {
    const id = this.nextId++;
    const reply = new Promise<ControlMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    await this.send({ ...cmd, id });
    return reply;
  }

  private async send(cmd: Record<string, unknown>) {
    try {
      await this.stdin?.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    } catch {
      // The tracer already exited; onExit reports why.
    }
  }

  private async closeStdin() {
    const w = this.stdin;
    this.stdin = null;
    try {
      await w?.close();
    } catch { /* already closed */ }
  }

  private onLine(line: string) {
    let m: ControlMessage;
    try {
      m = JSON.parse(line);
    } catch {
      this.stderrTail.push(line); // not protocol: keep it with the diagnostics
      return;
    }
    switch (m.type) {
      case "started":
        if (this.st.state === "starting") this.st.state = "running";
        this.started?.resolve(m);
        this.started = null;
        break;
      case "notice":
        this.notice(m.message);
        break;
      case "error":
        this.notice(`tracer: ${m.message}`);
        break;
      case "fatal":
        this.st.error = m.message;
        break;
      case "sample": {
        this.applyStatus(m.status);
        if (m.row) {
          const r: LiveRow = {
            at: m.at,
            dueMs: m.dueMs,
            lateMs: m.lateMs,
            sample: m.status.samples,
            row: m.row,
          };
          for (const fn of this.listeners) fn(r);
        }
        break;
      }
      case "write":
        this.applyStatus(m.status);
        break;
      case "stopped":
        this.stoppedCleanly = true;
        this.applyStatus(m.status);
        break;
      case "snapshot":
      case "status": {
        const id = typeof m.id === "number" ? m.id : -1;
        this.pending.get(id)?.resolve(m);
        this.pending.delete(id);
        if (m.type === "status") this.applyStatus(m.status);
        break;
      }
    }
  }

  private applyStatus(s: ControlStatus) {
    this.st.samples = s.samples;
    this.st.rowsWritten = s.rowsWritten;
    this.st.fileBytes = s.fileBytes;
    this.st.lastWrite = s.lastWrite;
    this.st.unavailable = s.unavailable;
    this.st.error = s.error;
    this.st.lateMs = s.lateMs;
  }

  private notice(message: string) {
    this.st.notices.push(message);
    if (this.st.notices.length > MAX_NOTICES) this.st.notices.shift();
  }

  private onExit(child: Deno.ChildProcess, code: number) {
    if (this.child !== child) return;
    this.child = null;
    this.stdin = null;
    this.st.exitCode = code;
    this.st.running = false;
    this.st.pid = null;
    if (!this.stoppedCleanly && this.st.error === null) {
      this.st.error = `the tracer exited with code ${code}` +
        (this.stderrTail.length ? `: ${this.stderrTail.slice(-3).join(" | ")}` : "");
    }
    // Exit 1 after "stopped": the last write failed, and `error` says why.
    this.st.state = this.stoppedCleanly ? "stopped" : "failed";
    const why = new Refusal(
      code === 2 ? "bad_input" : "failed",
      this.st.error ?? "the tracer exited",
    );
    this.started?.reject(why);
    this.started = null;
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
  }
}

function blankStatus(): LiveStatus {
  return {
    state: "idle",
    running: false,
    options: null,
    pid: null,
    startedAt: null,
    samples: 0,
    rowsWritten: 0,
    fileBytes: null,
    lastWrite: null,
    unavailable: [],
    error: null,
    lateMs: null,
    notices: [],
    exitCode: null,
  };
}

// ---------------------------------------------------------------- following a file

/** A row of a followed trace: its instant and its values (numbers; bigints converted). */
export interface FollowedRow {
  at: number;
  row: Record<string, unknown>;
}

/**
 * Columns a follower reads from the Parquet file: every one but the per-process lists (watch
 * points and the live charts use them; the lists are large and neither needs them).
 */
const NOT_FOLLOWED = new Set(["processes"]);

/**
 * Follows a Parquet trace that another `sysmon run` is writing: every `intervalMs` it looks at
 * the file and its journal and passes the rows it has not seen to the listeners. It starts at
 * the file's end: rows already in the file are not replayed; rows only in the journal are.
 */
export class FileFollower {
  readonly path: string;
  private readonly intervalMs: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private seen = -1;
  private stamp = "";
  private listeners = new Set<(r: FollowedRow) => void>();
  private busy = false;
  /** The last failure to read the file (for the status line), or null. */
  problem: string | null = null;

  constructor(path: string, opts: { intervalMs?: number } = {}) {
    this.path = path;
    this.intervalMs = opts.intervalMs ?? 2000;
  }

  subscribe(fn: (r: FollowedRow) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts following from the rows there now. */
  async start() {
    if (this.timer !== null) return;
    this.seen = -1;
    await this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the file and its journal (also what the timer runs). */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.look();
      this.problem = null;
    } catch (err) {
      this.problem = `cannot follow ${this.path}: ${(err as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  private async look() {
    const stamp = [this.path, journalPath(this.path)].map(statStamp).join("|");
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    let meta: FileMetaData | null = null;
    let file: Deno.FsFile | null = null;
    try {
      // Only a regular file: opening a FIFO put in its place would block.
      if ((await Deno.stat(this.path)).isFile) file = await Deno.open(this.path);
    } catch {
      // Missing, a link loop, no permission: nothing to read; the page's source says why.
    }
    try {
      const buffer = file ? await fileBuffer(file) : null;
      if (buffer) meta = parquetMetadata(await buffer.slice(...(await footerRange(buffer))));
      const fileRows = meta ? Number(meta.num_rows) : 0;
      const kv = new Map((meta?.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
      const utc = kv.get("sysmon.timezone") === "UTC";
      const zone = kv.get("sysmon.tz_name") ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      const journal = readJournal(journalPath(this.path));
      const journalRows = (journal?.rows ?? []).filter((r) => r.seq >= fileRows);
      const total = Math.max(fileRows, ...journalRows.map((r) => r.seq + 1));
      if (this.seen < 0 || total < this.seen) {
        // First look, or the file started again: begin at the file's end, and pass on the
        // journal's rows (written, not yet folded in), so that every written sample is seen.
        this.seen = fileRows;
        if (journalRows.length === 0) return;
      }
      const fresh: FollowedRow[] = [];
      if (buffer && meta && fileRows > this.seen) {
        // Top-level columns only (a nested column's children follow it in the schema).
        const columns: string[] = [];
        for (let i = 1, skip = 0; i < meta.schema.length; i++) {
          const e = meta.schema[i]!;
          if (skip > 0) {
            skip += (e.num_children ?? 0) - 1;
            continue;
          }
          if (e.num_children) skip = e.num_children;
          if (!NOT_FOLLOWED.has(e.name) && !e.num_children) columns.push(e.name);
        }
        const rows = await parquetReadObjects({
          file: buffer,
          metadata: meta,
          columns,
          rowStart: this.seen,
          rowEnd: fileRows,
          compressors,
        });
        for (const r of rows) {
          fresh.push({ at: instant(r.timestamp, utc, zone), row: numeric(r) });
        }
      }
      for (const j of journalRows.sort((a, b) => a.seq - b.seq)) {
        if (j.seq < this.seen) continue;
        const row = numeric(j.row);
        for (const k of NOT_FOLLOWED) delete row[k];
        fresh.push({ at: instant(j.row.timestamp, utc, zone), row });
      }
      this.seen = total;
      for (const r of fresh) for (const fn of this.listeners) fn(r);
    } finally {
      file?.close();
    }
  }
}

function statStamp(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
  } catch {
    return "-";
  }
}

/** Reads byte ranges of an open file (it stays the same inode while a fold renames over it). */
async function fileBuffer(file: Deno.FsFile): Promise<AsyncBuffer> {
  const { size } = await file.stat();
  return {
    byteLength: size,
    async slice(start: number, end = size) {
      const buf = new Uint8Array(end - start);
      await file.seek(start, Deno.SeekMode.Start);
      let off = 0;
      while (off < buf.length) {
        const n = await file.read(buf.subarray(off));
        if (n === null) throw new Error("the file ended early");
        off += n;
      }
      return buf.buffer;
    },
  };
}

async function footerRange(b: AsyncBuffer): Promise<[number, number]> {
  if (b.byteLength < 12) throw new Error("not a Parquet file");
  const tail = new DataView(await b.slice(b.byteLength - 8));
  const len = tail.getUint32(0, true);
  return [Math.max(0, b.byteLength - 8 - len), b.byteLength];
}

function numeric(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in r) {
    const v = r[k];
    out[k] = typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}

/**
 * A row's instant, epoch ms: UTC micros, or naive wall micros in the recording zone (or a
 * Date). Whole milliseconds, cut as the data layer cuts them (epoch_ms), so that a sample
 * read live and the same sample read from the file later have the same time.
 */
export function instant(ts: unknown, utc: boolean, zone: string): number {
  let wallMs: number;
  if (ts instanceof Date) wallMs = ts.getTime();
  else if (typeof ts === "bigint") wallMs = Number(ts / 1000n - (ts % 1000n < 0n ? 1n : 0n));
  else if (typeof ts === "number") wallMs = Math.floor(ts / 1000);
  else return Date.now();
  if (utc) return wallMs;
  try {
    const pdt = Temporal.Instant.fromEpochMilliseconds(wallMs)
      .toZonedDateTimeISO("UTC").toPlainDateTime();
    return pdt.toZonedDateTime(zone).epochMilliseconds;
  } catch {
    return wallMs;
  }
}
