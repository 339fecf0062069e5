// What the store writes to disk (issue: traces that stay cheap for weeks). From /proc/self/io
// of a child process that runs the real ParquetSink on a simulated clock, 1 sample/s with
// per-process history, a write every 10 s and a fold every 300 s (the defaults):
// - bytes per fold when the trace already holds 1 h, 24 h and 7 days (target: 7 d / 1 h <= 1.2);
// - write amplification, bytes written / bytes of the final file, over 6 minutes and 1 hour
//   from an empty trace (target <= 3), the journal included.
// write_bytes is what the kernel counts as dirtied for the disk (what `iotop` shows); wchar is
// every byte handed to write() or copy_file_range() (the page cache included).
import { ParquetSink } from "../../src/store/parquet_sink.ts";
import { listSegments } from "../../src/store/segments.ts";
import { weekAppendBench } from "./store_append.ts";
import { rowMaker } from "./write_cost.ts";
import { TRACER_V8_FLAGS as V8_FLAGS } from "../../src/tracer/v8_flags.ts";

interface Io {
  write: number;
  wchar: number;
}

function io(): Io {
  const text = Deno.readTextFileSync("/proc/self/io");
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { write: get("write_bytes"), wchar: get("wchar") };
}

/** The trace's files as they are (inode and size each): a fold changes it. */
function filesState(path: string): string {
  return listSegments(path).map((f) => {
    const st = Deno.statSync(f.path);
    return `${f.n}:${st.ino}:${st.size}`;
  }).join(" ");
}

/** Bytes of all files of the trace. */
function traceBytes(path: string): number {
  return listSegments(path).reduce((sum, f) => sum + Deno.statSync(f.path).size, 0);
}

function removeTrace(path: string) {
  for (const f of listSegments(path)) Deno.removeSync(f.path);
}

const minus = (a: Io, b: Io): Io => ({ write: a.write - b.write, wchar: a.wchar - b.wchar });

interface Run {
  sink: ParquetSink;
  path: string;
  /** Simulated seconds since the epoch of the run, and the rows it made. */
  advance(seconds: number, onFold?: (bytes: Io) => void, onJournal?: (bytes: Io) => void): void;
  close(): void;
}

/** A sink on `path` (new, or a trace written by an earlier run), on a simulated clock. */
function run(path: string, next: ReturnType<typeof rowMaker>, start: number, foldMs = 300_000) {
  let now = start;
  const sink = ParquetSink.open({
    path,
    utc: false,
    sampleInterval: 1,
    foldIntervalMs: foldMs,
    now: () => now,
  });
  const r: Run = {
    sink,
    path,
    advance(seconds, onFold, onJournal) {
      for (let s = 0; s < seconds; s += 10) {
        for (let i = 0; i < 10; i++) sink.add(next());
        now += 10_000;
        const before = io();
        const state = filesState(path);
        const rep = sink.write();
        if (rep.error) throw new Error(rep.error);
        // A fold writes a file (a piece, or a segment renamed over): the files change.
        if (filesState(path) !== state) onFold?.(minus(io(), before));
        else onJournal?.(minus(io(), before));
      }
    },
    close() {
      const rep = sink.close();
      if (rep.error) throw new Error(rep.error);
    },
  };
  return { r, clock: () => now };
}

/** Bytes of each fold over `minutes` of appending to a trace that holds `hours` already. */
function foldsAfter(dir: string, hours: number, minutes: number) {
  const path = `${dir}/history-${hours}h.parquet`;
  const next = rowMaker();
  // The history, written fast: one fold an hour (rows and file as a real run leaves them).
  const built = run(path, next, 0, 3_600_000);
  built.r.advance(hours * 3600);
  built.r.close();
  const size = traceBytes(path);
  // Then `run` again on it, as a user appends to a trace (defaults: fold every 300 s).
  const again = run(path, next, built.clock());
  const folds: Io[] = [];
  again.r.advance(minutes * 60, (b) => folds.push(b));
  again.r.close();
  removeTrace(path);
  return { hours, size, folds };
}

/** Write amplification of a new trace over `minutes`: all bytes written / final file. */
function amplification(dir: string, minutes: number) {
  const path = `${dir}/new-${minutes}m.parquet`;
  const before = io();
  const { r } = run(path, rowMaker(), 0);
  let journal = 0, folds = 0;
  r.advance(minutes * 60, (b) => (folds += b.write), (b) => (journal += b.write));
  const c = io();
  r.close();
  const last = io().write - c.write;
  const written = minus(io(), before);
  const size = traceBytes(path);
  const files = listSegments(path).length;
  removeTrace(path);
  return { minutes, written, size, files, journal, folds, last };
}

function simulate() {
  const dir = Deno.makeTempDirSync();
  try {
    const folds = [1, 24, 168].map((h) => foldsAfter(dir, h, 15));
    const amp = [6, 60].map((m) => amplification(dir, m));
    return { folds, amp };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function storeBytesBench() {
  await weekAppendBench();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", V8_FLAGS, import.meta.filename!],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("store-bytes simulation failed");
  const { folds, amp } = JSON.parse(new TextDecoder().decode(out.stdout)) as ReturnType<
    typeof simulate
  >;
  console.log(
    "disk writes of the store (1 sample/s with per-process history, a write every 10 s, a fold " +
      "every 300 s; history simulated):",
  );
  const perFold = folds.map((f) => mean(f.folds.map((b) => b.write)));
  for (const [i, f] of folds.entries()) {
    console.log(
      `  a fold with ${f.hours} h in the trace (${mib(f.size)}): ${mib(perFold[i]!)} written ` +
        `(wchar ${mib(mean(f.folds.map((b) => b.wchar)))}; ${f.folds.length} folds)`,
    );
  }
  const ratio = perFold[2]! / perFold[0]!;
  console.log(
    `  ratio 7 d / 1 h: ${ratio.toFixed(1)}x (target <= 1.2: ${ratio <= 1.2 ? "met" : "NOT MET"})`,
  );
  for (const a of amp) {
    const w = a.written.write / a.size;
    console.log(
      `  write amplification over ${a.minutes} min from an empty trace: ${w.toFixed(1)}x ` +
        `(${mib(a.written.write)} written, wchar ${mib(a.written.wchar)}, trace ${mib(a.size)} ` +
        `in ${a.files} file(s); of it: journal-only writes ${mib(a.journal)}, folds ` +
        `${mib(a.folds)} (with the journal's restart), the last write ${mib(a.last)}; ` +
        `target <= 3: ${w <= 3 ? "met" : "NOT MET"})`,
    );
  }
}

if (import.meta.main) console.log(JSON.stringify(simulate()));
