// Watch points: thresholds on a few headline values; crossing one upward makes an automatic
// event ("CPU% > 90 (now 93.2)") once, re-armed when the value goes back to or below it.
// The evaluation is pure (rows in, crossings out); thresholds persist in a small JSON file.
import {
  cpuBusyPercent,
  gpuMemoryPercent,
  memoryPercent,
  type Sample,
  sampleNumber,
} from "../schema/derived.ts";
import { parseGpuColumn } from "../schema/gpu_columns.ts";
import { messageOf, Refusal } from "../schema/refusal.ts";
import { replaceAtomically } from "../store/atomic.ts";
import type { Thresholds, WatchKey, WatchMetric } from "../views/model_types.ts";
export type { Thresholds, WatchKey, WatchMetric } from "../views/model_types.ts";

export const WATCH_METRICS: readonly WatchMetric[] = [
  { key: "cpu", label: "CPU%", title: "CPU %", unit: "%" },
  { key: "mem", label: "Mem%", title: "Memory %", unit: "%" },
  { key: "threads", label: "Threads", title: "Threads", unit: "count" },
  { key: "processes", label: "Processes", title: "Processes", unit: "count" },
  { key: "gpu_util", label: "util%", title: "GPU utilisation % (any GPU)", unit: "%" },
  { key: "gpu_mem", label: "mem%", title: "GPU memory % (any GPU)", unit: "%" },
];

/** Checks thresholds from a request: known keys, finite numbers (percentages 0-100) or null. */
export function validateThresholds(input: unknown): Thresholds {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Refusal("bad_input", 'thresholds must be a JSON object, e.g. {"cpu": 90}');
  }
  const out: Thresholds = {};
  for (const [k, v] of Object.entries(input)) {
    const m = WATCH_METRICS.find((w) => w.key === k);
    if (!m) {
      throw new Refusal(
        "bad_input",
        `unknown watch '${k}' (${WATCH_METRICS.map((w) => w.key).join(", ")})`,
      );
    }
    if (v === null || v === "") {
      out[m.key] = null;
      continue;
    }
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
      throw new Refusal(
        "bad_input",
        `${m.title}: the threshold must be a number of at least 0, not ${JSON.stringify(v)}`,
      );
    }
    if (m.unit === "%" && n > 100) {
      throw new Refusal("bad_input", `${m.title}: a percentage threshold is at most 100, not ${n}`);
    }
    out[m.key] = n;
  }
  return out;
}

/** One watched value of a row: `series` tells GPUs apart ("gpu_util:1"). */
export interface WatchedValue {
  key: WatchKey;
  series: string;
  label: string;
  value: number;
}

/**
 * The values watch points look at, from a row as sysmon (or the original tool) writes it.
 * CPU% and Mem% are the schema's (src/schema/derived.ts); GPUs in the row's column order.
 */
export function watchedValues(row: Sample): WatchedValue[] {
  const out: WatchedValue[] = [];
  const push = (key: WatchKey, series: string, label: string, value: number | null) => {
    if (value !== null && Number.isFinite(value)) out.push({ key, series, label, value });
  };
  push("cpu", "cpu", "CPU%", cpuBusyPercent(row));
  push("mem", "mem", "Mem%", memoryPercent(row));
  push("threads", "threads", "Threads", sampleNumber(row.system_thread_count));
  push("processes", "processes", "Processes", sampleNumber(row.system_process_count));
  for (const k in row) {
    const gpu = parseGpuColumn(k);
    if (gpu?.suffix === "utilization") {
      push("gpu_util", `gpu_util:${gpu.index}`, `GPU${gpu.index} util%`, sampleNumber(row[k]));
    } else if (gpu?.suffix === "total") {
      const i = gpu.index;
      push("gpu_mem", `gpu_mem:${i}`, `GPU${i} mem%`, gpuMemoryPercent(row, i));
    }
  }
  return out;
}

export interface Crossing {
  key: WatchKey;
  series: string;
  threshold: number;
  value: number;
  /** The automatic event's name: "CPU% > 90 (now 93.2)". */
  name: string;
}

function formatValue(key: WatchKey, v: number): string {
  const m = WATCH_METRICS.find((w) => w.key === key)!;
  return m.unit === "%" ? v.toFixed(1) : String(Math.round(v));
}

/**
 * Edge-triggered evaluation over a stream of rows. A series starts armed (the first row above
 * its threshold fires); it fires once and re-arms when the value is at or below the threshold.
 * A missing value changes nothing.
 */
export class WatchEvaluator {
  private limits: Thresholds = {};
  private above = new Map<string, boolean>();

  constructor(thresholds: Thresholds = {}) {
    this.setThresholds(thresholds);
  }

  get thresholds(): Thresholds {
    return { ...this.limits };
  }

  /** New thresholds; the series of a changed threshold are armed again. */
  setThresholds(t: Thresholds) {
    for (const m of WATCH_METRICS) {
      if ((t[m.key] ?? null) !== (this.limits[m.key] ?? null)) {
        for (const s of [...this.above.keys()]) {
          if (s === m.key || s.startsWith(`${m.key}:`)) this.above.delete(s);
        }
      }
    }
    this.limits = { ...t };
  }

  /** The crossings this row makes. */
  evaluate(row: Sample): Crossing[] {
    const out: Crossing[] = [];
    for (const w of watchedValues(row)) {
      const threshold = this.limits[w.key];
      if (threshold === null || threshold === undefined) continue;
      const wasAbove = this.above.get(w.series) ?? false;
      const isAbove = w.value > threshold;
      this.above.set(w.series, isAbove);
      if (isAbove && !wasAbove) {
        out.push({
          key: w.key,
          series: w.series,
          threshold,
          value: w.value,
          name: `${w.label} > ${threshold} (now ${formatValue(w.key, w.value)})`,
        });
      }
    }
    return out;
  }
}

/** Thresholds kept in a JSON file (written atomically), so they survive restarts and visits. */
export class WatchStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The saved thresholds; none when the file is absent or unreadable (said in `problem`). */
  load(): { thresholds: Thresholds; problem: string | null } {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { thresholds: {}, problem: null };
      return { thresholds: {}, problem: `cannot read ${this.path}: ${(err as Error).message}` };
    }
    try {
      const v = JSON.parse(text) as { thresholds?: unknown };
      return { thresholds: validateThresholds(v.thresholds ?? {}), problem: null };
    } catch (err) {
      return { thresholds: {}, problem: `${this.path} is not valid: ${(err as Error).message}` };
    }
  }

  /** Writes the thresholds; a failure (a full disk) is a Refusal. */
  save(t: Thresholds) {
    const text = JSON.stringify({ thresholds: t }, null, 2) + "\n";
    try {
      replaceAtomically(this.path, new TextEncoder().encode(text));
    } catch (err) {
      throw new Refusal("failed", `cannot write ${this.path}: ${messageOf(err)}; nothing changed`);
    }
  }
}
