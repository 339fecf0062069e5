// The sampling loop of `sysmon run`: samples on a fixed schedule, writes every
// write interval, and ends (after a final write) on abort or after --duration.
import { fitRow, type Row } from "../schema/columns.ts";
import { CsvSink } from "../store/csv_sink.ts";
import { type MonitorOptions, validateOptions, type ValidOptions } from "./options.ts";
import { ParquetSink } from "../store/parquet_sink.ts";
import { dropExecutablePages } from "../store/release.ts";
import type { ProcFs } from "../collect/proc/fs.ts";
import type { TraceSink, WriteReport } from "../store/sink.ts";
import { closeSources, processLookups, type Source, startSources } from "../collect/sources.ts";
import { SystemSampler } from "../collect/system.ts";

export interface MonitorStatus {
  output: string;
  samples: number;
  rowsWritten: number;
  fileBytes: number | null;
  /** Wall time of the last successful write. */
  lastWrite: Date | null;
  /** Sources that could not be read, with why. */
  unavailable: string[];
  /** The last write's failure, if it failed. */
  error: string | null;
}

/** The status before the first sample. */
export function idleStatus(output: string): MonitorStatus {
  return {
    output,
    samples: 0,
    rowsWritten: 0,
    fileBytes: null,
    lastWrite: null,
    unavailable: [],
    error: null,
  };
}

export interface MonitorHooks {
  /** After every sample; `timing` says when it was due and how late it ran. */
  onSample?: (status: MonitorStatus, row: Row, timing: SampleTiming) => void;
  /** Once the output is open, before the first sample (`sysmon run --control` snapshots it). */
  onOpen?: (sink: TraceSink) => void;
  /** Once the sampler and the sources run, before the first sample (the /metrics exposition). */
  onStart?: (parts: { sampler: SystemSampler; sources: Source[]; options: ValidOptions }) => void;
  /** After every write (successful or not). */
  onWrite?: (status: MonitorStatus) => void;
  /** Notices about the output (journal recovered, appending). */
  onNotice?: (message: string) => void;
  /** /proc and /sys roots (tests). */
  fs?: ProcFs;
  /** Journal fold interval in ms (Parquet output). */
  foldIntervalMs?: number;
}

/** When a sample was scheduled (epoch ms) and how many ms after that it was taken. */
export interface SampleTiming {
  dueMs: number;
  lateMs: number;
}

export interface MonitorSummary extends MonitorStatus {
  seconds: number;
}

/** Opens the sink for validated options; throws OutputError for a file it must not touch. */
export function openSink(o: ValidOptions, hooks: MonitorHooks = {}): TraceSink {
  const common = { path: o.outputFile, utc: o.useUtc, sampleInterval: o.sampleInterval };
  const sink = o.format === "csv"
    ? CsvSink.open(common)
    : ParquetSink.open({ ...common, foldIntervalMs: hooks.foldIntervalMs });
  for (const n of sink.notices) hooks.onNotice?.(n);
  return sink;
}

/** Traces this machine into a Parquet (or CSV) file until aborted or --duration ends. */
export async function monitorToParquet(
  options: MonitorOptions = {},
  hooks: MonitorHooks = {},
): Promise<MonitorSummary> {
  const o = validateOptions(options);
  const sink = openSink(o, hooks);
  hooks.onOpen?.(sink);
  const sources = startSources({ ...o, onNotice: hooks.onNotice });
  const sampler = new SystemSampler({
    fs: hooks.fs,
    useUtc: o.useUtc,
    processes: { top: o.topProcesses, ...processLookups(sources) },
  });
  try {
    hooks.onStart?.({ sampler, sources, options: o });
    return await sampleLoop(o, options.signal, sink, sampler, sources, hooks);
  } finally {
    sampler.close();
    await closeSources(sources);
  }
}

async function sampleLoop(
  o: ValidOptions,
  signal: AbortSignal | undefined,
  sink: TraceSink,
  sampler: SystemSampler,
  sources: Source[],
  hooks: MonitorHooks,
): Promise<MonitorSummary> {
  const status = idleStatus(o.outputFile);
  let annotated = "";
  const outOfRange = new Set<string>(); // columns already noticed
  const annotate = () => {
    const extra = Object.assign({}, ...sources.map((s) => s.metadata()));
    const text = JSON.stringify(extra);
    if (text !== annotated) sink.annotate(extra);
    annotated = text;
  };
  const applyReport = (r: WriteReport) => {
    status.rowsWritten = r.rowsWritten;
    status.fileBytes = r.fileBytes;
    status.error = r.error;
    if (r.error === null) status.lastWrite = new Date();
    hooks.onWrite?.(status);
  };

  const start = performance.now();
  // A row is due one interval after the last (its rates need a baseline); a --duration
  // shorter than the interval takes its one row when the duration ends.
  const intervalMs = Math.min(o.sampleInterval, o.duration ?? Infinity) * 1000;
  const endAt = o.duration === null ? Infinity : start + o.duration * 1000;
  let lastWrite = start;
  sampler.sample(); // the baseline for the first row's rates and percentages
  dropExecutablePages(); // start-up is over
  let k = 1;
  while (!signal?.aborted) {
    let due = start + k * intervalMs;
    if (due > endAt + 1) break;
    const now = performance.now();
    if (now > due + intervalMs) {
      // Fell behind (suspended machine, stalled disk): skip the missed slots.
      k += Math.floor((now - due) / intervalMs);
      due = start + k * intervalMs;
    }
    if (!(await sleepUntil(due, signal))) break;
    k++;
    const timing = { dueMs: performance.timeOrigin + due, lateMs: performance.now() - due };
    const row = sampler.sample();
    for (const s of sources) s.collect(row);
    for (const name of fitRow(row)) {
      if (outOfRange.has(name)) continue;
      outOfRange.add(name);
      hooks.onNotice?.(`${name}: a reading out of range for its column is stored as null`);
    }
    sink.add(row);
    status.samples++;
    status.unavailable = [...sampler.unavailable].map(([k, why]) => `${k} (${why})`);
    for (const s of sources) {
      const problem = s.problem();
      if (problem !== null) status.unavailable.push(`${s.name} (${problem})`);
    }
    hooks.onSample?.(status, row, timing);
    if (performance.now() - lastWrite >= o.writeInterval * 1000 - intervalMs / 2) {
      annotate();
      applyReport(sink.write());
      lastWrite = performance.now();
    }
  }
  annotate();
  applyReport(sink.close());
  return { ...status, seconds: (performance.now() - start) / 1000 };
}

/** Resolves true at `due` (performance.now() time), false if aborted first. */
function sleepUntil(due: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, due - performance.now()));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
