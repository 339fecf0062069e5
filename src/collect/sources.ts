// Slow sources (GPUs, containers) run on their own schedule in the background; the
// sampling loop only copies their latest readings into each row, so they never delay it.
import type { Row } from "../schema/columns.ts";
import { writeContainerMetrics } from "./docker/container_metrics.ts";
import { DockerCollector } from "./docker/docker.ts";
import type { Exposition } from "./exposition.ts";
import { writeGpuMetrics } from "./gpu/gpu_metrics.ts";
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
  /** A container's name from its id (64 hex digits), for the `processes` column; no I/O. */
  containerName?(id: string): string | null;
  /** GPU memory held by each process id, bytes, for the `processes` column; no I/O. */
  gpuMemory?(): Map<number, number>;
  /** Writes the latest readings as Prometheus metrics (the exporter's names); no I/O. */
  metrics?(w: Exposition): void;
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
  if (o.enableDocker) sources.push(dockerSource(o));
  return sources;
}

function dockerSource(o: SourceOptions): Source {
  const docker = new DockerCollector({
    intervalMs: Math.max(250, o.sampleInterval * 1000),
    onNotice: o.onNotice,
  });
  docker.start();
  let seen = false;
  return {
    name: "docker",
    collect: (row) => {
      docker.collect(row);
      seen = true;
    },
    problem: () => docker.notice(),
    // Settled once the daemon answered (containers listed) or said why it cannot.
    settled: () => docker.notice() !== null || docker.containers().length > 0 || seen,
    metadata: (): Record<string, string> => ({}),
    containerName: (id) => docker.containerOfId(id),
    metrics: (w) => writeContainerMetrics(w, docker.latest()),
    close: () => docker.close(),
  };
}

function gpuSource(o: SourceOptions): Source {
  const smi = new NvidiaSmi({
    intervalMs: Math.max(100, o.sampleInterval * 1000),
    env: o.gpuEnv,
    onNotice: o.onNotice,
  }).start();
  const hostname = hostName();
  return {
    name: "gpu",
    collect: (row) => smi.collect(row),
    problem: () => smi.notice,
    settled: () => smi.info().length > 0 || smi.notice !== null,
    metadata: (): Record<string, string> => {
      const gpus = smi.info();
      return gpus.length ? { "sysmon.gpus": JSON.stringify(gpus) } : {};
    },
    gpuMemory: () => {
      const held = new Map<number, number>();
      for (const p of smi.processes()) {
        // One line per process and GPU: a process on two GPUs holds the sum.
        if (p.usedMemoryBytes !== null) {
          held.set(p.pid, (held.get(p.pid) ?? 0) + p.usedMemoryBytes);
        }
      }
      return held;
    },
    metrics: (w) => writeGpuMetrics(w, smi.fresh(), hostname),
    close: () => smi.close(),
  };
}

/** This machine's name, or "" where it may not be asked. */
function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

/**
 * What the `processes` column asks of the sources: container names (the first source that
 * knows the id) and GPU memory per process (summed over sources).
 */
export function processLookups(
  sources: Source[],
): { containerName: (id: string) => string | null; gpuMemory: () => Map<number, number> } {
  return {
    containerName: (id) => {
      for (const s of sources) {
        const name = s.containerName?.(id) ?? null;
        if (name !== null) return name;
      }
      return null;
    },
    gpuMemory: () => {
      const maps = sources.flatMap((s) => s.gpuMemory ? [s.gpuMemory()] : []);
      if (maps.length === 1) return maps[0]!;
      const held = new Map<number, number>();
      for (const m of maps) for (const [pid, b] of m) held.set(pid, (held.get(pid) ?? 0) + b);
      return held;
    },
  };
}

/** Closes every source, never throwing. */
export async function closeSources(sources: Source[]): Promise<void> {
  await Promise.allSettled(sources.map((s) => s.close()));
}
