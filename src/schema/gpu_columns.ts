// The columns of a GPU, `gpu_<i>_<field>`: names, units, order, and which reading fills
// each. The collector (collect/gpu) parses nvidia-smi into a GpuReading.
import type { ColumnDef, ColumnKind, Row } from "./column_types.ts";

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

/** `gpu_<index>_<suffix>`. */
export const gpuColumnName = (index: number, suffix: string) => `gpu_${index}_${suffix}`;

/** Splits a `gpu_<index>_<suffix>` column of a known suffix; null for other names. */
export function parseGpuColumn(name: string): { index: number; suffix: string } | null {
  const m = GPU_COLUMN.exec(name);
  if (!m || !BY_SUFFIX.has(m[2]!)) return null;
  const index = Number(m[1]);
  return Number.isSafeInteger(index) && String(index) === m[1] ? { index, suffix: m[2]! } : null;
}

/** The GPUs among `names` (those with a `utilization` or `used` column), in index order. */
export function gpuIndexes(names: Iterable<string>): number[] {
  const out = new Set<number>();
  for (const name of names) {
    const p = parseGpuColumn(name);
    if (p && (p.suffix === "utilization" || p.suffix === "used")) out.add(p.index);
  }
  return [...out].sort((a, b) => a - b);
}

/** The columns of GPU `index`, in order. */
export function gpuColumnNames(index: number): string[] {
  return SUFFIXES.map((s) => gpuColumnName(index, s.suffix));
}

/** Adds GPU `index`'s columns to `row`: its values, or all null for a missing or stale reading. */
export function gpuColumns(
  row: Row,
  index: number,
  reading: GpuReading | null,
): void {
  for (const s of SUFFIXES) row[gpuColumnName(index, s.suffix)] = reading ? s.value(reading) : null;
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
