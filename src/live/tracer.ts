// Live tracing for the dashboard: the same tracer as `sysmon run`, in a child process
// (`sysmon run --control=rows`), so that no request the server handles can delay a sample.
// LiveTracer starts, stops, resets and snapshots it and hands out its rows as they come.
import type { ValidOptions } from "../tracer/options.ts";
import { Refusal } from "../schema/refusal.ts";
import type { Row } from "../schema/columns.ts";
import {
  type ControlMessage,
  type ControlStatus,
  nextSnapshotPath,
  readLines,
} from "../tracer/control.ts";
import { fileSize } from "../store/sink.ts";
import { listSegments, segmentPath } from "../store/segments.ts";
import { TRACER_V8_FLAGS } from "../tracer/v8_flags.ts";
import { type SysmonCommand, sysmonCommand } from "./sysmon_command.ts";
import type { LiveState } from "../views/model_types.ts";
import type { ExpositionFormat } from "../collect/exposition.ts";
export type { LiveState } from "../views/model_types.ts";

/** What the page (or `sysmon serve`) starts tracing with; `output` is already confined. */
/** The tracer's options (ValidOptions) that the page sets, and where it writes. */
export type LiveStartOptions =
  & Pick<ValidOptions, "sampleInterval" | "writeInterval" | "enableGpu" | "enableDocker" | "useUtc">
  & {
    output: string;
    /** Seconds between folds of the journal into the file (default 300, as `run`). */
    foldInterval?: number;
  };

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

/** The child's status (ControlStatus; `error` also says why it failed), and its process. */
export type LiveStatus = Omit<ControlStatus, "output" | "dropped"> & {
  state: LiveState;
  running: boolean;
  options: LiveStartOptions | null;
  pid: number | null;
  /** ISO time the current (or last) run started. */
  startedAt: string | null;
  /** The tracer's recent notices (journal recovered, appending to …, GPU absent). */
  notices: string[];
  exitCode: number | null;
};

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
    // Counted from here: a tracer that stopped reading its input never takes the command.
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, this.stopTimeoutMs);
    try {
      if (this.st.state !== "stopping") {
        this.st.state = "stopping";
        const told = (async () => {
          await this.send({ cmd: "stop" });
          await this.closeStdin(); // end of input means stop as well
        })();
        await Promise.race([told, this.exited]);
      }
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
    const files = listSegments(o.output);
    if (files.length > 0) {
      archived = nextSnapshotPath(o.output);
      // The trace's files keep their numbers: `name_N.parquet`, `name_N.0001.parquet`, …
      for (const f of files) Deno.renameSync(f.path, segmentPath(archived, f.n));
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

  /**
   * The tracer's /metrics exposition (the control protocol's `metrics`), or null when it is
   * not tracing; throws a Refusal when it does not answer within `timeoutMs`.
   */
  async metrics(format: ExpositionFormat, timeoutMs = 5000): Promise<string | null> {
    if (this.st.state !== "running") return null;
    const reply = await this.request({ cmd: "metrics", format }, timeoutMs);
    if (reply.type !== "metrics") throw new Refusal("failed", "unexpected reply from the tracer");
    if ("error" in reply) throw new Refusal("failed", `the tracer's metrics: ${reply.error}`);
    return reply.text;
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

  /** Sends `cmd` and waits for its reply (at most `timeoutMs`, when given). */
  private async request(
    cmd:
      | { cmd: "snapshot"; path?: string }
      | { cmd: "status" }
      | { cmd: "metrics"; format: ExpositionFormat },
    timeoutMs?: number,
  ): Promise<ControlMessage> {
    const id = this.nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = new Promise<ControlMessage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (timeoutMs === undefined) return;
      timer = setTimeout(() => {
        this.pending.delete(id); // a late reply finds no entry
        reject(new Refusal("failed", `the tracer did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const settled = reply.finally(() => clearTimeout(timer));
    settled.catch(() => {}); // a timeout while the command is still being written: awaited below
    // A write that hangs (the tracer stopped reading) ends with the timeout too.
    await Promise.race([this.send({ ...cmd, id }), settled]);
    return await settled;
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
      case "metrics":
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
