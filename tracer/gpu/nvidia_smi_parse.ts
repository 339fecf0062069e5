// Pure parsers for nvidia-smi's CSV output (--format=csv,noheader,nounits) and the
// GPU columns they fill; no I/O here. Field meanings: `nvidia-smi --help-query-gpu`.
import type { ColumnDef, ColumnKind, Row } from "../column_types.ts";

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

/** One GPU's reading from one line of `--query-gpu`. Null: not reported by this GPU. */
export interface GpuReading {
  index: number;
  uuid: string | null;
  name: string | null;
  utilizationPercent: number | null;
  memUtilizationPercent: number | null;
  totalBytes: number | null;
  usedBytes: number | null;
  freeBytes: number | null;
  tempC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  smClockMhz: number | null;
  memClockMhz: number | null;
  fanPercent: number | null;
  pstate: number | null;
}

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

interface GpuColumn {
  suffix: string;
  kind: ColumnKind;
  unit: string;
  help: string;
  value: (r: GpuReading) => number | null;
}

const gpuCol = (
  suffix: string,
  kind: ColumnKind,
  unit: string,
  help: string,
  value: (r: GpuReading) => number | null,
): GpuColumn => ({ suffix, kind, unit, help, value });

/** Column suffixes after `gpu_<i>_`: the original tool's names first, then sysmon's own. */
const SUFFIXES: GpuColumn[] = [
  gpuCol("total", "int64", "bytes", "memory.total", (r) => r.totalBytes),
  gpuCol("used", "int64", "bytes", "memory.used", (r) => r.usedBytes),
  gpuCol("free", "int64", "bytes", "memory.free", (r) => r.freeBytes),
  gpuCol(
    "utilization",
    "double",
    "percent",
    "utilization.gpu: time a kernel ran over the last sample period (null under MIG)",
    (r) => r.utilizationPercent,
  ),
  gpuCol("temp", "int64", "celsius", "temperature.gpu: core temperature", (r) => r.tempC),
  gpuCol(
    "mem_utilization_percent",
    "double",
    "percent",
    "utilization.memory: time memory was read or written over the last sample period",
    (r) => r.memUtilizationPercent,
  ),
  gpuCol("power_w", "double", "W", "power.draw: board power draw", (r) => r.powerW),
  gpuCol("power_limit_w", "double", "W", "power.limit: software limit", (r) => r.powerLimitW),
  gpuCol("sm_clock_mhz", "int64", "MHz", "clocks.current.sm: SM clock", (r) => r.smClockMhz),
  gpuCol(
    "mem_clock_mhz",
    "int64",
    "MHz",
    "clocks.current.memory: memory clock",
    (r) => r.memClockMhz,
  ),
  gpuCol(
    "fan_percent",
    "double",
    "percent",
    "fan.speed: intended fan speed (null for passively cooled boards)",
    (r) => r.fanPercent,
  ),
  gpuCol(
    "pstate",
    "int64",
    "",
    "pstate: performance state, 0 (maximum) to 15 (minimum)",
    (r) => r.pstate,
  ),
];

const BY_SUFFIX = new Map(SUFFIXES.map((s) => [s.suffix, s]));
const GPU_COLUMN = /^gpu_(\d+)_(.+)$/;

/** The columns of GPU `index`, in order. */
export function gpuColumnNames(index: number): string[] {
  return SUFFIXES.map((s) => `gpu_${index}_${s.suffix}`);
}

/** Adds GPU `index`'s columns to `row`: its values, or all null for a missing or stale reading. */
export function gpuColumns(
  row: Row,
  index: number,
  reading: GpuReading | null,
): void {
  for (const s of SUFFIXES) row[`gpu_${index}_${s.suffix}`] = reading ? s.value(reading) : null;
}

/** The definition of a GPU column, or null for any other name. */
export function gpuColumnDef(name: string): ColumnDef | null {
  const m = GPU_COLUMN.exec(name);
  const s = m ? BY_SUFFIX.get(m[2]!) : undefined;
  if (!m || !s) return null;
  return { name, kind: s.kind, unit: s.unit, help: `GPU ${m[1]}: ${s.help}` };
}

/** A GPU column's place among GPU columns, in [0, 1): by index, then field order; else null. */
export function gpuColumnRank(name: string): number | null {
  const m = GPU_COLUMN.exec(name);
  const s = m ? BY_SUFFIX.get(m[2]!) : undefined;
  if (!m || !s) return null;
  return (Number(m[1]) * SUFFIXES.length + SUFFIXES.indexOf(s)) / 1e6;
}

/** int64 for bytes, temperature, clocks and pstate; double for the rest; null: not a GPU column. */
export function gpuColumnKind(name: string): "int64" | "double" | null {
  const kind = gpuColumnDef(name)?.kind;
  return kind === "int64" || kind === "double" ? kind : null;
}

/** A GPU column's unit ("bytes", "percent", "celsius", "W", "MHz"), "" when it has none. */
export function gpuColumnUnit(name: string): string {
  return gpuColumnDef(name)?.unit ?? "";
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
