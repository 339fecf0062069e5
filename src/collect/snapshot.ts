// One sample of this machine, with real rates (two readings a short moment apart).
import type { Row } from "../schema/columns.ts";
import type { ProcFs } from "./proc/fs.ts";
import { DEFAULT_TOP_PROCESSES } from "./processes.ts";
import { closeSources, processLookups, startSources } from "./sources.ts";
import { SystemSampler } from "./system.ts";

export interface SnapshotOptions {
  enableGpu?: boolean;
  enableDocker?: boolean;
  useUtc?: boolean;
  /** Top processes by CPU and by memory in the `processes` field (default 10; 0: none). */
  topProcesses?: number;
  /** Milliseconds between the baseline reading and the sample. */
  windowMs?: number;
  fs?: ProcFs;
  /** Unavailable sources (no nvidia-smi, no Docker daemon). */
  onNotice?: (message: string) => void;
}

export async function collectSystemSnapshot(opts: SnapshotOptions = {}): Promise<Row> {
  const sources = startSources({
    enableGpu: opts.enableGpu ?? true,
    enableDocker: opts.enableDocker ?? true,
    sampleInterval: 0.25,
    onNotice: opts.onNotice,
  });
  const sampler = new SystemSampler({
    fs: opts.fs,
    useUtc: opts.useUtc,
    processes: { top: opts.topProcesses ?? DEFAULT_TOP_PROCESSES, ...processLookups(sources) },
  });
  try {
    sampler.sample();
    await sleep(opts.windowMs ?? 250);
    // GPUs and containers answer on their own time: wait for them, at most 3 s.
    const end = performance.now() + 3000;
    while (!sources.every((s) => s.settled()) && performance.now() < end) await sleep(25);
    const row = sampler.sample();
    for (const s of sources) s.collect(row);
    return row;
  } finally {
    sampler.close();
    await closeSources(sources);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
