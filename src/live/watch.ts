// Watch points: thresholds on a few headline values. A watch point fires when its value has
// been above the threshold for `for` seconds, and re-arms only after it has been back at or
// below it for as long (hysteresis); each firing is one automatic event ("CPU% > 90 (now
// 93.2)") from when the value went above to when it cleared, and may be posted to a webhook
// (webhook.ts). The evaluation is pure (rows and their times in, firings and ends out); the
// settings persist in a small JSON file.
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
import { validateWebhookUrl } from "./webhook.ts";
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

/** Seconds a condition must hold (and then be clear) when the request names none. */
export const DEFAULT_FOR_S = 10;
/** The longest `for`: a day. */
const MAX_FOR_S = 86_400;

/** Everything a watch point setting holds: thresholds, their duration and the webhook. */
export interface WatchSettings {
  thresholds: Thresholds;
  /** Seconds a value must stay above its threshold to fire, and at or below it to re-arm. */
  forSeconds: number;
  /** An http(s) URL to POST each firing to, or null. */
  webhook: string | null;
}

/** `for` from a request: seconds from 0 to MAX_FOR_S; blank or absent: DEFAULT_FOR_S. */
function validateFor(v: unknown): number {
  if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) {
    return DEFAULT_FOR_S;
  }
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0 || n > MAX_FOR_S) {
    const shown = typeof v === "string" ? `'${v.slice(0, 20)}'` : JSON.stringify(v);
    throw new Refusal(
      "bad_input",
      `'for' must be a number of seconds from 0 to ${MAX_FOR_S}, not ${shown}`,
    );
  }
  return n;
}

/**
 * A whole setting from a request: the thresholds (as `validateThresholds`), `for` (seconds,
 * default DEFAULT_FOR_S) and `webhook` (an http or https URL; blank or null: none).
 */
export function validateWatch(input: unknown): WatchSettings {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Refusal("bad_input", 'a watch point must be a JSON object, e.g. {"cpu": 90}');
  }
  const { for: forValue, webhook, ...thresholds } = input as Record<string, unknown>;
  return {
    thresholds: validateThresholds(thresholds),
    forSeconds: validateFor(forValue),
    webhook: validateWebhookUrl(webhook),
  };
}

/** A watch point fired: its value has been above the threshold for `for` seconds. */
interface Firing {
  kind: "fire";
  key: WatchKey;
  /** Which value: the key, or "gpu_util:1" for GPU 1. */
  series: string;
  threshold: number;
  /** The value when it fired. */
  value: number;
  /** The automatic event's name: "CPU% > 90 (now 93.2)". */
  name: string;
  /** When the value went above the threshold (epoch ms): the event's start. */
  start: number;
  /** When it fired: `for` seconds (or more, between samples) after `start`. */
  at: number;
}

/** A firing ended: the value has been at or below the threshold for `for` seconds since `end`. */
export interface Cleared {
  kind: "clear";
  key: WatchKey;
  series: string;
  start: number;
  /** When the value went back at or below the threshold (or the last sample seen above it). */
  end: number;
}

export type WatchChange = Firing | Cleared;

interface SeriesState {
  key: WatchKey;
  /** Fired and not re-armed yet; the start of that firing. */
  firing: number | null;
  /** Since when the value is on the other side (above while armed, clear while firing). */
  since: number | null;
  /** The last sample seen. */
  last: number;
}

function formatValue(key: WatchKey, v: number): string {
  const m = WATCH_METRICS.find((w) => w.key === key)!;
  return m.unit === "%" ? v.toFixed(1) : String(Math.round(v));
}

/**
 * Evaluation over a stream of rows and their times. A series starts armed. Armed, it fires
 * once its value has been above the threshold in every sample for `for` seconds (0: the first
 * sample above); firing, it clears (and re-arms) once the value has been at or below the
 * threshold in every sample for `for` seconds. A missing value changes nothing; a sample
 * older than the one before (another trace) starts the count again.
 */
export class WatchEvaluator {
  private limits: Thresholds = {};
  private forMs: number;
  private states = new Map<string, SeriesState>();

  constructor(thresholds: Thresholds = {}, forSeconds = DEFAULT_FOR_S) {
    this.forMs = forSeconds * 1000;
    this.configure(thresholds, forSeconds);
  }

  get thresholds(): Thresholds {
    return { ...this.limits };
  }

  get forSeconds(): number {
    return this.forMs / 1000;
  }

  /**
   * New thresholds and duration. The series of a changed threshold are armed again: those
   * firing end at their last sample (returned).
   */
  configure(t: Thresholds, forSeconds = this.forSeconds): Cleared[] {
    const out: Cleared[] = [];
    for (const m of WATCH_METRICS) {
      if ((t[m.key] ?? null) === (this.limits[m.key] ?? null)) continue;
      for (const [series, st] of [...this.states]) {
        if (st.key !== m.key) continue;
        if (st.firing !== null) out.push(cleared(series, st, st.last));
        this.states.delete(series);
      }
    }
    this.limits = { ...t };
    this.forMs = forSeconds * 1000;
    return out;
  }

  /** Forgets every series (tracing stopped): those firing end at their last sample. */
  reset(): Cleared[] {
    const out = [...this.states].filter(([, st]) => st.firing !== null)
      .map(([series, st]) => cleared(series, st, st.last));
    this.states.clear();
    return out;
  }

  /** What the row taken at `at` (epoch ms) changes: firings and ends. */
  evaluate(row: Sample, at: number): WatchChange[] {
    const out: WatchChange[] = [];
    for (const w of watchedValues(row)) {
      const threshold = this.limits[w.key];
      if (threshold === null || threshold === undefined) continue;
      let st = this.states.get(w.series);
      if (st === undefined) {
        st = { key: w.key, firing: null, since: null, last: at };
        this.states.set(w.series, st);
      }
      if (at < st.last) st.since = null; // time went back: count again
      st.last = at;
      const above = w.value > threshold;
      const armed = st.firing === null;
      if (above !== armed) {
        st.since = null; // on the side it is on: nothing pending
        continue;
      }
      st.since ??= at;
      if (at - st.since < this.forMs) continue;
      if (armed) {
        out.push({
          kind: "fire",
          key: w.key,
          series: w.series,
          threshold,
          value: w.value,
          name: `${w.label} > ${threshold} (now ${formatValue(w.key, w.value)})`,
          start: st.since,
          at,
        });
        st.firing = st.since;
      } else {
        out.push(cleared(w.series, st, st.since));
        st.firing = null;
      }
      st.since = null;
    }
    return out;
  }
}

function cleared(series: string, st: SeriesState, end: number): Cleared {
  const start = st.firing ?? end;
  return { kind: "clear", key: st.key, series, start, end: Math.max(start, end) };
}

/** The settings kept in a JSON file (written atomically), so they survive restarts and visits. */
export class WatchStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The saved settings; none when the file is absent or unreadable (said in `problem`). */
  load(): { settings: WatchSettings; problem: string | null } {
    const none = { thresholds: {}, forSeconds: DEFAULT_FOR_S, webhook: null };
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { settings: none, problem: null };
      return { settings: none, problem: `cannot read ${this.path}: ${messageOf(err)}` };
    }
    try {
      const v = JSON.parse(text) as { thresholds?: unknown; for?: unknown; webhook?: unknown };
      const t = v.thresholds ?? {};
      if (typeof t !== "object" || t === null) throw new Error("'thresholds' is not an object");
      return {
        settings: validateWatch({ ...t, for: v.for, webhook: v.webhook }),
        problem: null,
      };
    } catch (err) {
      return { settings: none, problem: `${this.path} is not valid: ${messageOf(err)}` };
    }
  }

  /** Writes the settings; a failure (a full disk) is a Refusal. */
  save(s: WatchSettings) {
    const text =
      JSON.stringify({ thresholds: s.thresholds, for: s.forSeconds, webhook: s.webhook }, null, 2) +
      "\n";
    try {
      replaceAtomically(this.path, new TextEncoder().encode(text));
    } catch (err) {
      throw new Refusal("failed", `cannot write ${this.path}: ${messageOf(err)}; nothing changed`);
    }
  }
}
