// Pure parsers for nvidia-smi's CSV output (--format=csv,noheader,nounits) into GpuReading
// (src/schema/gpu_columns.ts says which columns they fill); no I/O here. Field meanings: `nvidia-smi --help-query-gpu`.
import type { GpuReading } from "../../schema/gpu_columns.ts";

/**
 * Fields asked of `--query-gpu`, in output order. `name` comes last so that a name
 * holding a comma still parses (everything after the other fields is the name).
 * `clocks.sm` and `clocks.mem` are nvidia-smi's short names of `clocks.current.*`.
 */
export const GPU_FIELDS = [
  "index",
  "uuid",
  "utilization.gpu",
  "utilization.memory",
  "memory.total",
  "memory.used",
  "memory.free",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "clocks.sm",
  "clocks.mem",
  "fan.speed",
  "pstate",
  "name",
] as const;

/** Fields asked of `--query-compute-apps`; the name sits in the middle, see parseAppLine. */
export const APP_FIELDS = ["pid", "process_name", "used_memory"] as const;

/** One process holding a compute context on a GPU. */
export interface GpuProcess {
  pid: number;
  name: string;
  /** Null where the driver does not tell (MIG, Windows WDDM). */
  usedMemoryBytes: number | null;
}

export const MIB = 1048576;

/**
 * True for the values nvidia-smi prints when it has none: `[N/A]`, `[Not Supported]`,
 * `[Unknown Error]`, `[GPU is lost]`, `[Insufficient Permissions]`, `N/A`, or nothing.
 */
export function isMissing(field: string): boolean {
  const f = field.trim();
  return f === "" || f === "N/A" || (f.startsWith("[") && f.endsWith("]"));
}

/** A number, or null for a missing or garbled value. Tolerates a unit (`35 %`, `81559 MiB`). */
export function parseNumber(field: string | undefined): number | null {
  if (field === undefined || isMissing(field)) return null;
  const m = /^([-+]?\d+(?:\.\d+)?)(?:\s*[A-Za-z%]+)?$/.exec(field.trim());
  return m ? Number(m[1]) : null;
}

/** A whole number (clocks, temperatures, indexes), or null. */
export function parseInteger(field: string | undefined): number | null {
  const n = parseNumber(field);
  return n === null ? null : Math.round(n);
}

/** MiB (the unit of memory fields with `nounits`) to bytes, or null. */
export function parseMib(field: string | undefined): number | null {
  const n = parseNumber(field);
  return n === null ? null : Math.round(n * MIB);
}

/** `P0` (maximum performance) .. `P15` to 0..15, or null. */
export function parsePstate(field: string | undefined): number | null {
  const m = /^P(\d{1,2})$/.exec(field?.trim() ?? "");
  if (!m) return null;
  const n = Number(m[1]);
  return n <= 15 ? n : null;
}

function text(field: string | undefined): string | null {
  return field === undefined || isMissing(field) ? null : field.trim();
}

/** One line of `--query-gpu=GPU_FIELDS`, or null for a line that is not one (an error message). */
export function parseGpuLine(line: string): GpuReading | null {
  const all = line.split(",");
  if (all.length < GPU_FIELDS.length) return null;
  const f = all.slice(0, GPU_FIELDS.length - 1);
  const name = all.slice(GPU_FIELDS.length - 1).join(",");
  const index = parseNumber(f[0]);
  if (index === null || !Number.isInteger(index) || index < 0) return null;
  return {
    index,
    uuid: text(f[1]),
    utilizationPercent: parseNumber(f[2]),
    memUtilizationPercent: parseNumber(f[3]),
    totalBytes: parseMib(f[4]),
    usedBytes: parseMib(f[5]),
    freeBytes: parseMib(f[6]),
    tempC: parseInteger(f[7]),
    powerW: parseNumber(f[8]),
    powerLimitW: parseNumber(f[9]),
    smClockMhz: parseInteger(f[10]),
    memClockMhz: parseInteger(f[11]),
    fanPercent: parseNumber(f[12]),
    pstate: parsePstate(f[13]),
    name: text(name),
  };
}

/**
 * One line of `--query-compute-apps=APP_FIELDS`, or null. The pid is the first field and
 * the memory the last, so a process name holding commas still parses.
 */
export function parseAppLine(line: string): GpuProcess | null {
  const f = line.split(",");
  if (f.length < APP_FIELDS.length) return null;
  const pid = parseNumber(f[0]);
  if (pid === null || !Number.isInteger(pid) || pid <= 0) return null;
  const last = f[f.length - 1];
  const mem = parseMib(last);
  if (mem === null && !isMissing(last ?? "")) return null;
  return { pid, name: f.slice(1, -1).join(",").trim(), usedMemoryBytes: mem };
}

/** Why a run of nvidia-smi ended, with a key so that the same failure is told only once. */
export interface Failure {
  key: string;
  message: string;
}

export const NOT_FOUND: Failure = {
  key: "not-found",
  message: "nvidia-smi not found; GPU columns will be empty",
};

export const HUNG: Failure = {
  key: "hung",
  message: "nvidia-smi stopped answering; killed it and will restart it",
};

/**
 * What an exit of nvidia-smi means (exit codes from `nvidia-smi -h`). `said` is the first
 * line it printed that was not data (stderr first, else stdout), or "".
 */
export function exitFailure(code: number, signal: string | null, said: string): Failure {
  const tail = said ? `: ${said}` : "";
  const empty = "GPU columns will be empty";
  if (signal !== null) {
    return { key: `signal:${signal}`, message: `nvidia-smi was killed by ${signal}${tail}` };
  }
  const known: Record<number, string> = {
    9: "nvidia-smi cannot talk to the NVIDIA driver (exit 9: driver not loaded); " +
      `check that the driver is installed and loaded (lsmod | grep nvidia); ${empty}`,
    12: "NVML library not found (nvidia-smi exit 12): libnvidia-ml.so is missing; " +
      `install the driver's utilities package matching the kernel driver; ${empty}`,
    15: `a GPU fell off the bus or is lost (nvidia-smi exit 15)${tail}; ` +
      "its columns are empty until the system is rebooted",
    18: "NVML driver/library version mismatch (nvidia-smi exit 18): the loaded kernel driver " +
      `and libnvidia-ml differ, usually after a driver upgrade; reboot or reload the nvidia module; ${empty}`,
  };
  const message = known[code] ??
    (code === 0
      ? `nvidia-smi exited although it was asked to loop${tail}`
      : `nvidia-smi exited with code ${code}${tail}`);
  return { key: `exit:${code}`, message };
}

/** Delay before restart number `attempt` (0-based): first, 2×first, 4×first, … capped at max. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 30));
}
