// The GPU collector: two long-lived `nvidia-smi ... -lms N` children stream CSV lines (one
// for the GPUs, one for processes holding GPU memory); collect() copies the latest readings
// into a row without any I/O, so a slow or hung nvidia-smi never delays a sample.
import type { Row } from "../../schema/columns.ts";
import { Pause } from "../pause.ts";
import {
  APP_FIELDS,
  backoffMs,
  exitFailure,
  type Failure,
  GPU_FIELDS,
  type GpuProcess,
  HUNG,
  NOT_FOUND,
  parseAppLine,
  parseGpuLine,
} from "./nvidia_smi_parse.ts";
import { gpuColumns, type GpuReading } from "../../schema/gpu_columns.ts";

export interface GpuInfo {
  index: number;
  uuid: string | null;
  name: string | null;
}

export interface NvidiaSmiOptions {
  /** Period asked of nvidia-smi (`-lms`), ms. Default 1000. */
  intervalMs?: number;
  /** Executable: a path, or a name looked up on PATH (the PATH of `env` when it has one). */
  command?: string;
  /** Variables added to the children's environment (tests put a fake first on PATH). */
  env?: Record<string, string>;
  /** A reading older than this reads as null. Default max(3 × interval, 5 s). */
  staleMs?: number;
  /** No output from the GPU query for this long: kill and restart it. Default max(3 × interval, 10 s). */
  hangMs?: number;
  /** Delay before a restart: firstMs, doubled after each failed run, at most maxMs. */
  backoff?: { firstMs: number; maxMs: number };
  /** Also run the per-process query (`--query-compute-apps`). Default true. */
  processes?: boolean;
  /** Called once for each kind of failure (not found, exit code, hang), never per tick. */
  onNotice?: (message: string) => void;
}

/** Latest GPU readings and GPU processes from nvidia-smi; see the options for timings. */
export class NvidiaSmi {
  readonly intervalMs: number;
  readonly staleMs: number;
  private readonly gpus: SmiStream;
  private readonly apps: SmiStream | null;
  private readonly readings = new Map<number, { reading: GpuReading; at: number }>();
  private readonly told = new Set<string>();
  private readonly onNotice: (message: string) => void;
  private snapshot: GpuProcess[] = [];
  private snapshotAt = -Infinity;
  private started = false;

  constructor(opts: NvidiaSmiOptions = {}) {
    const interval = Math.max(1, Math.round(opts.intervalMs ?? 1000));
    this.intervalMs = interval;
    this.staleMs = opts.staleMs ?? Math.max(3 * interval, 5000);
    this.onNotice = opts.onNotice ?? (() => {});
    const base = {
      command: opts.command ?? "nvidia-smi",
      env: opts.env,
      backoff: opts.backoff ?? { firstMs: 1000, maxMs: 60_000 },
      failed: (f: Failure) => this.tell(f),
    };
    const loop = ["--format=csv,noheader,nounits", "-lms", String(interval)];
    this.gpus = new SmiStream({
      ...base,
      args: [`--query-gpu=${GPU_FIELDS.join(",")}`, ...loop],
      hangMs: opts.hangMs ?? Math.max(3 * interval, 10_000),
      read: () => {},
      line: (line, at) => {
        const reading = parseGpuLine(line);
        if (reading) this.readings.set(reading.index, { reading, at });
        return reading !== null;
      },
    });
    // nvidia-smi prints nothing between two loops of --query-compute-apps (and nothing at
    // all when no process uses a GPU), so a snapshot is the lines of one read, or of reads
    // less than `gap` apart; one that has not been refreshed for two periods is empty.
    const gap = Math.min(100, interval / 2);
    this.apps = opts.processes === false ? null : new SmiStream({
      ...base,
      args: [`--query-compute-apps=${APP_FIELDS.join(",")}`, ...loop],
      hangMs: null, // silence is normal here: no process on any GPU
      read: (at) => {
        if (at - this.snapshotAt > gap) this.snapshot = [];
        this.snapshotAt = at;
      },
      line: (line) => {
        const p = parseAppLine(line);
        if (p) this.snapshot.push(p);
        return p !== null;
      },
    });
  }

  /** Starts the children; failures are retried with backoff until close(). */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.gpus.start();
    this.apps?.start();
    return this;
  }

  /**
   * The GPU query's current problem, null once it answers again. (The process query prints
   * nothing while no process uses a GPU, so its recovery cannot be seen: its failures are
   * told through onNotice only.)
   */
  get notice(): string | null {
    return this.gpus.problem;
  }

  /** Times the GPU query was started or tried (restarts included). */
  get attempts(): number {
    return this.gpus.attempts;
  }

  /** Process ids of the running nvidia-smi children. */
  childPids(): number[] {
    return [this.gpus.pid, this.apps?.pid ?? null].filter((p): p is number => p !== null);
  }

  /** Adds `gpu_<i>_*` columns for every GPU seen so far; null where a reading is stale. */
  collect(row: Row): void {
    const now = performance.now();
    for (const index of [...this.readings.keys()].sort((a, b) => a - b)) {
      const r = this.readings.get(index)!;
      gpuColumns(row, index, now - r.at <= this.staleMs ? r.reading : null);
    }
  }

  /** The latest reading of each GPU, by index, leaving out those older than staleMs. */
  fresh(): GpuReading[] {
    const now = performance.now();
    return [...this.readings.values()].filter((r) => now - r.at <= this.staleMs)
      .map((r) => r.reading).sort((a, b) => a.index - b.index);
  }

  /** Every GPU seen so far, by index, for the trace's metadata. */
  info(): GpuInfo[] {
    return [...this.readings.values()]
      .map(({ reading: r }) => ({ index: r.index, uuid: r.uuid, name: r.name }))
      .sort((a, b) => a.index - b.index);
  }

  /** Processes holding GPU memory in nvidia-smi's latest loop. */
  processes(): GpuProcess[] {
    const fresh = performance.now() - this.snapshotAt <= 2 * this.intervalMs + 500;
    return fresh ? [...this.snapshot] : [];
  }

  /** Stops both children (SIGTERM, SIGKILL after 1 s) and waits for them. */
  async close(): Promise<void> {
    await Promise.all([this.gpus.close(), this.apps?.close()]);
  }

  private tell(f: Failure) {
    if (this.told.has(f.key)) return;
    this.told.add(f.key);
    this.onNotice(f.message);
  }
}

interface StreamOptions {
  command: string;
  args: string[];
  env: Record<string, string> | undefined;
  hangMs: number | null;
  backoff: { firstMs: number; maxMs: number };
  /** Called once per read from stdout, before its lines. */
  read(at: number): void;
  /** Handles one line; false when it is not data (an error message). */
  line(line: string, at: number): boolean;
  failed(f: Failure): void;
}

/** One nvidia-smi child kept running: restarted with backoff whenever it exits or hangs. */
class SmiStream {
  problem: string | null = null;
  attempts = 0;
  private readonly o: StreamOptions;
  private child: Deno.ChildProcess | null = null;
  private stopping: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;
  private readonly sleep = new Pause();

  constructor(o: StreamOptions) {
    this.o = o;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start() {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sleep.close();
    if (this.child) await this.stop(this.child);
    // A child stuck in the kernel ignores even SIGKILL: do not wait for it forever.
    if (this.loop) await within(this.loop, 2000);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const { failure, data } = await this.once();
      if (this.closed) return;
      if (data) failures = 0;
      this.problem = failure.message;
      this.o.failed(failure);
      await this.sleep.for(backoffMs(failures++, this.o.backoff.firstMs, this.o.backoff.maxMs));
    }
  }

  /** One run of the child, to its end; what ended it, and whether it printed any data. */
  private async once(): Promise<{ failure: Failure; data: boolean }> {
    this.attempts++;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.o.command, {
        args: this.o.args,
        env: this.o.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { failure: NOT_FOUND, data: false };
      if (!(err instanceof Error)) throw err;
      const message = `cannot start ${this.o.command}: ${err.message}; GPU columns will be empty`;
      return { failure: { key: `spawn:${err.name}`, message }, data: false };
    }
    this.child = child;
    this.stopping = null;
    const stderr = firstLine(child.stderr);
    let hung = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (this.o.hangMs === null) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        // Told now, not at its exit: a child stuck in the driver may never exit.
        hung = true;
        this.problem = HUNG.message;
        this.o.failed(HUNG);
        this.stop(child);
      }, this.o.hangMs);
    };
    arm();
    let data = false;
    let said = "";
    try {
      await readLines(child.stdout, (lines, at) => {
        arm();
        this.o.read(at);
        for (const line of lines) {
          if (this.o.line(line, at)) {
            data = true;
            this.problem = null;
          } else if (!said) said = line.slice(0, 300);
        }
      });
    } finally {
      clearTimeout(timer);
    }
    const status = await child.status;
    await this.stopping;
    this.child = null;
    if (hung) return { failure: HUNG, data };
    const err = await stderr;
    return { failure: exitFailure(status.code, status.signal, err || said), data };
  }

  /** Stops `child` once, however many times asked. */
  private stop(child: Deno.ChildProcess): Promise<void> {
    this.stopping ??= terminate(child);
    return this.stopping;
  }
}

/** Feeds the complete lines of each read (trimmed, empty ones dropped) to `each`. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  each: (lines: string[], at: number) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  const emit = (parts: string[]) => {
    const lines = parts.map((l) => l.trim()).filter((l) => l !== "");
    if (lines.length > 0) each(lines, performance.now());
  };
  for await (const chunk of stream) {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = parts.pop() ?? "";
    // A line longer than any nvidia-smi prints is not worth keeping whole.
    if (rest.length > 65536) rest = "";
    emit(parts);
  }
  emit([rest + decoder.decode()]);
}

/** The first non-empty line of a stream, read to its end so that it closes. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let head = "";
  for await (const chunk of stream) {
    if (head.length < 4096) head += decoder.decode(chunk, { stream: true });
  }
  const line = head.split("\n").map((l) => l.trim()).find((l) => l !== "");
  return line?.slice(0, 300) ?? "";
}

/** SIGTERM, then SIGKILL when it is still running 1 s later; resolves once it has exited. */
async function terminate(child: Deno.ChildProcess): Promise<void> {
  signal(child, "SIGTERM");
  if (await within(child.status, 1000)) return;
  signal(child, "SIGKILL");
  await within(child.status, 1000);
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal) {
  try {
    child.kill(sig);
  } catch (err) {
    // Deno throws a TypeError once the child has exited: then there is nothing to stop.
    if (!(err instanceof TypeError)) throw err;
  }
}

/** Waits for `p` at most `ms`; true when it settled in time. The timer never outlives the wait. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
