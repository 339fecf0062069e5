// Values computed from other columns of one sample, defined once: the tracer, the dashboard's
// charts and watch points all take them from here.
import { cpuCoreColumns } from "./columns.ts";
import { gpuColumnName } from "./gpu_columns.ts";

/** One column's value. */
export interface ColumnFormula {
  k: "col";
  col: string;
}
/** num / den × 100; null when either is missing or den is 0 (see percentOf). */
export interface RatioFormula {
  k: "ratio";
  num: string;
  den: string;
}
/** The mean of the columns' values present. */
export interface MeanFormula {
  k: "mean";
  cols: string[];
}
/** How a derived value is computed from the columns of one sample. */
export type Formula = ColumnFormula | RatioFormula | MeanFormula;

const CPU_BUSY = "cpu_busy_percent";

/** Memory used %: sys_used / sys_total (sys_used as psutil counts it). */
export const MEMORY_PERCENT: RatioFormula = { k: "ratio", num: "sys_used", den: "sys_total" };

/**
 * CPU busy % of a trace with these columns: sysmon's `cpu_busy_percent`, else (the original
 * tool's files) the mean of the per-core columns.
 */
export function cpuBusyFormula(names: ReadonlySet<string>): ColumnFormula | MeanFormula {
  if (names.has(CPU_BUSY)) return { k: "col", col: CPU_BUSY };
  return { k: "mean", cols: cpuCoreColumns(names) };
}

/** GPU `index`'s memory used %: gpu_<i>_used / gpu_<i>_total. */
export function gpuMemoryFormula(index: number): RatioFormula {
  return { k: "ratio", num: gpuColumnName(index, "used"), den: gpuColumnName(index, "total") };
}

/** part / whole × 100; null when either is missing or whole is 0. */
export function percentOf(part: number | null, whole: number | null): number | null {
  return part !== null && whole ? (part / whole) * 100 : null;
}

/** A sample as a row or a message carries it (integers may be bigints). */
export type Sample = Record<string, unknown>;

/** A finite number from a sample's value, else null. */
export function sampleNumber(v: unknown): number | null {
  if (typeof v === "bigint") return Number(v);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * A formula's value for one sample. A mean skips missing and negative values (the original
 * tool writes -1 for a reading it could not take); null when nothing is left.
 */
export function formulaValue(f: Formula, row: Sample): number | null {
  switch (f.k) {
    case "col":
      return sampleNumber(row[f.col]);
    case "ratio":
      return percentOf(sampleNumber(row[f.num]), sampleNumber(row[f.den]));
    case "mean": {
      let sum = 0, n = 0;
      for (const c of f.cols) {
        const v = sampleNumber(row[c]);
        if (v === null || v < 0) continue;
        sum += v;
        n++;
      }
      return n ? sum / n : null;
    }
  }
}

/** CPU busy % of one sample: its `cpu_busy_percent`, else the mean of its cores. */
export function cpuBusyPercent(row: Sample): number | null {
  return sampleNumber(row[CPU_BUSY]) ??
    formulaValue({ k: "mean", cols: cpuCoreColumns(Object.keys(row)) }, row);
}

/** Memory used % of one sample. */
export const memoryPercent = (row: Sample) => formulaValue(MEMORY_PERCENT, row);

/** GPU `index`'s memory used % of one sample. */
export const gpuMemoryPercent = (row: Sample, index: number) =>
  formulaValue(gpuMemoryFormula(index), row);
