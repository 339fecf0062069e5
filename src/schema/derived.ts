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

/** The sum of the columns' values present (charts of several containers). */
export interface SumFormula {
  k: "sum";
  cols: string[];
}

/**
 * Per second, the sum of the rates of cumulative counters (see counterRates): what a trace
 * without `<counter>_per_sec` columns (the original tool writes only some) still tells.
 */
export interface RateFormula {
  k: "rate";
  cols: string[];
}

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

/**
 * The per-second rate of `counters` in a trace with these columns: each one's
 * `<counter>_per_sec` column when the trace has them all (sysmon's files), else computed
 * from the cumulative counters it has (the original tool's files); summed when several.
 */
export function counterRateFormula(
  names: ReadonlySet<string>,
  counters: string[],
): ColumnFormula | SumFormula | RateFormula {
  const rates = counters.map((c) => `${c}_per_sec`);
  if (rates.every((r) => names.has(r)) || !counters.some((c) => names.has(c))) {
    return rates.length === 1 ? { k: "col", col: rates[0]! } : { k: "sum", cols: rates };
  }
  return { k: "rate", cols: counters };
}

/**
 * A cumulative counter's rate per second at each x: (v − the previous v) / the seconds
 * between them. Null at the first x, next to a gap, and where the counter went back (it was
 * reset: a reboot, a new interface). Reduced series keep each bucket's first and last value
 * of a counter that only grows (its minimum and maximum), so their rates are exact averages.
 */
export function counterRates(
  t: readonly number[],
  v: readonly (number | null | undefined)[],
): (number | null)[] {
  const out = new Array<number | null>(v.length).fill(null);
  for (let i = 1; i < v.length; i++) {
    const a = v[i - 1], b = v[i];
    const dt = (t[i]! - t[i - 1]!) / 1000;
    if (a == null || b == null || !(dt > 0) || b < a) continue;
    out[i] = (b - a) / dt;
  }
  return out;
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
