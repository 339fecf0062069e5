// Validation of the tracer's options, shared by the CLI and the programmatic API.
import { isRefusal, Refusal } from "../schema/refusal.ts";
import { dirname, resolve } from "node:path";
import { DEFAULT_TOP_PROCESSES } from "../collect/processes.ts";

export interface MonitorOptions {
  outputFile?: string;
  /** Seconds between samples (fractions allowed, at least 0.1). */
  sampleInterval?: number;
  /** Seconds between writes. */
  writeInterval?: number;
  /** Seconds to run; unlimited when absent. */
  duration?: number;
  enableGpu?: boolean;
  enableDocker?: boolean;
  useUtc?: boolean;
  /**
   * Per-process history: each sample keeps the top N processes by CPU and the top N by
   * memory (their union) in the `processes` column. Default 10; 0 turns it off.
   */
  topProcesses?: number;
  signal?: AbortSignal;
}

export interface ValidOptions {
  outputFile: string;
  sampleInterval: number;
  writeInterval: number;
  duration: number | null;
  enableGpu: boolean;
  enableDocker: boolean;
  useUtc: boolean;
  topProcesses: number;
  format: "parquet" | "csv";
}

export const DEFAULT_OUTPUT = "system_monitor.parquet";

/** --fold-interval in ms: more than 0 and at most 300 s (the longest other readers may lag). */
export function foldIntervalMs(seconds: number): number {
  if (!(seconds > 0 && seconds <= 300)) {
    throw new Refusal("bad_input", `--fold-interval must be more than 0 and at most 300 seconds`);
  }
  return seconds * 1000;
}

/**
 * Sampling at least every 0.1 s, writes more than 0 s apart; `names` say what the user called
 * them (the flags, or the page's fields).
 */
export function checkIntervals(
  sampleInterval: number,
  writeInterval: number,
  names = { sample: "--sample-interval", write: "--write-interval" },
) {
  if (!(sampleInterval >= 0.1)) {
    throw new Refusal(
      "bad_input",
      `${names.sample} must be at least 0.1 seconds, got ${sampleInterval}`,
    );
  }
  if (!(writeInterval > 0)) {
    throw new Refusal(
      "bad_input",
      `${names.write} must be more than 0 seconds, got ${writeInterval}`,
    );
  }
}

export function validateOptions(o: MonitorOptions): ValidOptions {
  const sampleInterval = o.sampleInterval ?? 5;
  const writeInterval = o.writeInterval ?? 10;
  checkIntervals(sampleInterval, writeInterval);
  if (o.duration !== undefined && !(o.duration > 0)) {
    throw new Refusal("bad_input", `--duration must be more than 0 seconds, got ${o.duration}`);
  }
  const topProcesses = o.topProcesses ?? DEFAULT_TOP_PROCESSES;
  if (!(Number.isInteger(topProcesses) && topProcesses >= 0 && topProcesses <= 10_000)) {
    throw new Refusal(
      "bad_input",
      `--top-processes must be a whole number from 0 (off) to 10000, got ${topProcesses}`,
    );
  }
  const outputFile = o.outputFile ?? DEFAULT_OUTPUT;
  if (outputFile.trim() === "") throw new Refusal("bad_input", "--output must name a file");
  checkWritableDir(outputFile);
  return {
    outputFile,
    sampleInterval,
    writeInterval,
    duration: o.duration ?? null,
    enableGpu: o.enableGpu ?? true,
    enableDocker: o.enableDocker ?? true,
    useUtc: o.useUtc ?? false,
    topProcesses,
    format: outputFile.toLowerCase().endsWith(".csv") ? "csv" : "parquet",
  };
}

function checkWritableDir(output: string) {
  const dir = dirname(resolve(output));
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(dir);
  } catch {
    throw new Refusal("bad_input", `--output: directory ${dir} does not exist`);
  }
  if (!st.isDirectory) throw new Refusal("bad_input", `--output: ${dir} is not a directory`);
  try {
    const st2 = Deno.statSync(output);
    if (st2.isDirectory) throw new Refusal("bad_input", `--output: ${output} is a directory`);
    if (!st2.isFile) {
      // A FIFO or a device would block or swallow the trace: only regular files are replaced.
      throw new Refusal("bad_input", `--output: ${output} is not a regular file`);
    }
  } catch (err) {
    if (isRefusal(err)) throw err;
  }
  // Creating a file is the only honest test of write permission (root ignores mode bits).
  const probe = `${dir}/.sysmon-probe-${Deno.pid}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array());
    Deno.removeSync(probe);
  } catch (err) {
    throw new Refusal("bad_input", `--output: cannot write in ${dir} (${(err as Error).message})`);
  }
}
