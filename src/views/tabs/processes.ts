// The Processes tab's charts: per metric (CPU, resident memory, storage I/O, GPU memory) one
// line per top process, its legend naming it `name (pid)` and linking to its own history; and
// the history of the process picked (every metric, its I/O split into read and write). All
// series share one data block: the x of one process-series answer. Pure: no Deno, no SQL.
import { terminalSafe } from "../../schema/safe_text.ts";
import type { ChartModel, DataBlock, SeriesModel, TabModel } from "../charts.ts";
import { MiB } from "../chart_spec.ts";
import { pageUrl, type ViewState, viewUrl } from "../state.ts";
import type { ProcessField, ProcessKey, ProcessMetric, ProcessSeriesResult } from "../types.ts";

/** Processes each chart shows at most. */
export const TOP_PROCESSES = 10;

const CHARTS: {
  metric: ProcessMetric;
  title: string;
  unit: string;
  scale: number;
  none: string;
}[] = [
  {
    metric: "cpu",
    title: "CPU by process",
    unit: "%",
    scale: 1,
    none: "No process used CPU in this range.",
  },
  {
    metric: "memory",
    title: "Resident memory by process",
    unit: "MiB",
    scale: 1 / MiB,
    none: "No process's resident memory is known in this range.",
  },
  {
    metric: "io",
    title: "Storage I/O by process (read + write)",
    unit: "MiB/s",
    scale: 1 / MiB,
    none: "No process read or wrote storage in this range (another user's I/O can only be " +
      "read by root).",
  },
  {
    metric: "gpu",
    title: "GPU memory by process",
    unit: "MiB",
    scale: 1 / MiB,
    none: "No process held GPU memory in this range.",
  },
];

/** How a process is named in legends and lists: `name (pid)`, control characters as escapes. */
export function processLabel(k: ProcessKey): string {
  const name = terminalSafe(k.name);
  return `${name.length > 60 ? `${name.slice(0, 59)}…` : name} (${k.pid})`;
}

/**
 * The view that shows `k`'s own history (over its lifetime: no zoom); `trace`: the trace it
 * belongs to when several are compared (s.trace's by default).
 */
export function historyState(s: ViewState, k: ProcessKey, trace = s.trace): ViewState {
  return { ...s, tab: "processes", proc: { pid: k.pid, name: k.name }, zoom: null, trace };
}

const round4 = (v: number) => (v === 0 || !Number.isFinite(v) ? v : Number(v.toPrecision(4)));
const same = (a: ProcessKey, b: ProcessKey) => a.pid === b.pid && a.name === b.name;

export interface ProcessChartsInput {
  state: ViewState;
  /** One process-series answer: its x, and the values of every process below. */
  series: ProcessSeriesResult;
  /** Per metric, the processes its chart shows, in legend order. */
  top: Record<ProcessMetric, ProcessKey[]>;
  /** The process whose own history is shown (its values are in `series`), or null. */
  one: ProcessKey | null;
}

/** The Processes tab's charts and their one data block. */
export function processCharts(input: ProcessChartsInput): TabModel {
  const r = input.series;
  const dt = r.t.slice(1).map((t, i) => Math.round(t - r.t[i]!));
  const block: DataBlock = {
    t0: Math.round(r.t[0] ?? r.start),
    dt,
    s: [],
    rows: r.rows,
    reduced: r.rows > r.t.length,
    gap: null, // a process not listed is a null already
  };
  /** Adds one process's field as a series of the block; null when it has no value. */
  const add = (k: ProcessKey, f: ProcessField, scale: number): number | null => {
    const v = r.series.find((x) => same(x, k))?.values[f];
    if (!v || v.every((x) => x === null)) return null;
    return block.s.push(v.map((x) => (x === null ? null : round4(x * scale)))) - 1;
  };
  const charts: ChartModel[] = [];
  if (input.one) charts.push(...history(input.one, add));
  for (const c of CHARTS) {
    const series: SeriesModel[] = [];
    for (const k of input.top[c.metric]) {
      const i = add(k, c.metric, c.scale);
      if (i === null) continue;
      const to = historyState(input.state, k);
      series.push({ label: processLabel(k), i, href: pageUrl(to), hx: viewUrl(to) });
    }
    const base = {
      id: `proc-${c.metric}`,
      title: c.title,
      unit: c.unit,
      help: `The ${TOP_PROCESSES} processes with the highest peak or sum over the range ` +
        `(each bucket: its highest value). Click a name for that process's own history.`,
      kind: "proclines" as const,
      block: 0,
      series,
      wide: true,
    };
    charts.push(series.length ? base : { ...base, hidden: c.none });
  }
  return {
    tab: "processes",
    charts,
    cards: [],
    blocks: [block],
    notes: [],
    rows: r.rows,
  };
}

/** The charts of one process's own history. */
function history(
  k: ProcessKey,
  add: (k: ProcessKey, f: ProcessField, scale: number) => number | null,
): ChartModel[] {
  const label = processLabel(k);
  const one = (
    id: string,
    title: string,
    unit: string,
    fields: [ProcessField, string][],
    scale = 1,
  ): ChartModel => {
    const series = fields.flatMap(([f, name]) => {
      const i = add(k, f, scale);
      return i === null ? [] : [{ label: name, i }];
    });
    const base = {
      id: `proc-one-${id}`,
      title: `${title}: ${label}`,
      unit,
      help: "This process's values, each bucket's highest.",
      kind: "line" as const,
      block: 0,
      series,
    };
    return series.length ? base : { ...base, hidden: `Not known for ${label} in this window.` };
  };
  const gpu = one("gpu", "GPU memory", "MiB", [["gpu", label]], 1 / MiB);
  return [
    one("cpu", "CPU", "%", [["cpu", label]]),
    one("memory", "Resident memory", "MiB", [["memory", label]], 1 / MiB),
    one("io", "Storage I/O", "MiB/s", [["read", "read"], ["write", "write"]], 1 / MiB),
    one("threads", "Threads", "", [["threads", label]]),
    ...(gpu.hidden ? [] : [gpu]), // most processes hold none: not worth a note
  ];
}
