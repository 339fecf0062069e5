// One sample of this machine, with real rates (two readings a short moment apart).
import type { Row } from "./columns.ts";
import type { ProcFs } from "./proc/fs.ts";
import { SystemSampler } from "./system.ts";

export interface SnapshotOptions {
  enableGpu?: boolean;
  enableDocker?: boolean;
  useUtc?: boolean;
  /** Milliseconds between the baseline reading and the sample. */
  windowMs?: number;
  fs?: ProcFs;
}

export async function collectSystemSnapshot(opts: SnapshotOptions = {}): Promise<Row> {
  const sampler = new SystemSampler({ fs: opts.fs, useUtc: opts.useUtc });
  sampler.sample();
  await new Promise((r) => setTimeout(r, opts.windowMs ?? 250));
  return sampler.sample();
}
