// Slow sources (GPUs, containers) run on their own schedule in the background; the
// sampling loop only copies their latest readings into each row, so they never delay it.
import type { Row } from "./columns.ts";
import { NvidiaSmi } from "./gpu/nvidia_smi.ts";

export interface Source {
  /** Short name for the status line ("gpu", "docker"). */
  readonly name: string;
  /** Copies the latest readings into the row; no I/O. */
  collect(row: Row): void;
  /** Why the source is unavailable now, or null. */
  problem(): string | null;
  /** True once it has a first reading or knows it has none (for one-off snapshots). */
  settled(): boolean;
  /** `sysmon.*` metadata for the file (GPU names and UUIDs, …). */
  metadata(): Record<string, string>;
  close(): Promise<void>;
}

export interface SourceOptions {
  enableGpu: boolean;
  enableDocker: boolean;
  sampleInterval: number;
  onNotice?: (message: string) => void;
  /** Environment for nvidia-smi (tests put a fake first on PATH). */
  gpuEnv?: Record<string, string>;
}

/** Starts the enabled sources; a disabled one is never started (no child, no socket). */
export function startSources(o: SourceOptions): Source[] {
  const sources: Source[] = [];
  if (o.enableGpu) sources.push(gpuSource(o));
  return sources;
}

function gpuSource(o: SourceOptions): Source {
  const smi = new NvidiaSmi({
    intervalMs: Math.max(100, o.sampleInterval * 1000),
    env: o.gpuEnv,
    onNotice: o.onNotice,
  }).start();
  return {
    name: "gpu",
    collect: (row) => smi.collect(row),
    problem: () => smi.notice,
    settled: () => smi.info().length > 0 || smi.notice !== null,
    metadata: (): Record<string, string> => {
      const gpus = smi.info();
      return gpus.length ? { "sysmon.gpus": JSON.stringify(gpus) } : {};
    },
    close: () => smi.close(),
  };
}

/** Closes every source, never throwing. */
export async function closeSources(sources: Source[]): Promise<void> {
  await Promise.allSettled(sources.map((s) => s.close()));
}
