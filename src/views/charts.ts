// What the views render: a tab's plan (tab_plan.ts) and the answers to its queries become chart,
// card and data-block models. Pure: no Deno, no SQL. The server reaches the views' chart API
// through this module, so planTab is re-exported here.
import { counterRates, percentOf } from "../schema/derived.ts";
import { type Expr, exprColumns, type SeriesSpec, type TabPlan } from "./chart_spec.ts";
import type { TabName } from "./state.ts";
import type { ProcessEntry, SeriesResult, TraceMeta } from "./types.ts";

export { containerLatestColumns, planTab } from "./tab_plan.ts";
export type { PlanInput, TabPlan } from "./chart_spec.ts";

export interface SeriesModel {
  label: string;
  /** Index into the block's series arrays. */
  i: number;
  /** A link the legend's label becomes (Processes tab: the process's own history). */
  href?: string;
  /** The same view as a fragment (htmx). */
  hx?: string;
  /** Several traces compared: the trace's colour slot (the same on every chart). */
  trace?: number;
}

export interface ChartModel {
  id: string;
  title: string;
  unit: string;
  help: string;
  /** "proclines": lines whose legend labels link to each process's history (Processes tab). */
  kind: "line" | "heatmap" | "bars" | "proclines";
  block: number;
  series: SeriesModel[];
  y?: [number, number];
  wide?: boolean;
  /** Set when the chart is hidden: why (the trace lacks its columns). */
  hidden?: string;
  /** Every value in the window is null. */
  empty?: boolean;
  /** Bar charts: labels and values; several traces compared: each bar's trace (colour slot). */
  bars?: { labels: string[]; values: (number | null)[]; traces?: number[] };
}

export interface CardModel {
  id: string;
  label: string;
  unit: string;
  /** Newest value in the window, formatted; "—" when none. */
  value: string;
  /** Sparkline: series index in block 0, or null. */
  spark: number | null;
  /** The sparkline's series name (its colour is that name's on every chart). */
  sparkLabel?: string;
  /** Several traces compared: each shown trace's value, in its colour slot. */
  perTrace?: { name: string; value: string; trace: number }[];
  /** Several traces compared: the sparkline's series of each trace (index in block 0). */
  sparks?: { i: number; trace: number; label: string }[];
}

/** A query's answer as the page carries it: x as deltas, values rounded to 4 digits. */
export interface DataBlock {
  /** First x, epoch ms UTC. */
  t0: number;
  /** Differences between successive x, ms. */
  dt: number[];
  s: (number | null)[][];
  rows: number;
  reduced: boolean;
  /**
   * Successive x more than this many ms apart have a null between them (a hole: the server
   * puts one there, live.js when it appends); null when unknown.
   */
  gap: number | null;
}

export interface TabModel {
  tab: TabName;
  charts: ChartModel[];
  cards: CardModel[];
  blocks: DataBlock[];
  notes: string[];
  containers?: TabPlan["containers"];
  /** Raw samples in the window (block 0). */
  rows: number;
}

const round4 = (v: number) => (v === 0 || !Number.isFinite(v) ? v : Number(v.toPrecision(4)));

function evaluate(e: Expr, r: SeriesResult, scale: number): (number | null)[] | null {
  const get = (c: string) => r.series[c];
  const n = r.t.length;
  const out = new Array<number | null>(n);
  switch (e.k) {
    case "col": {
      const a = get(e.col);
      if (!a) return null;
      for (let i = 0; i < n; i++) out[i] = a[i] == null ? null : a[i]! * scale;
      return out;
    }
    case "ratio": {
      const a = get(e.num), b = get(e.den);
      if (!a || !b) return null;
      for (let i = 0; i < n; i++) {
        const p = percentOf(a[i] ?? null, b[i] ?? null);
        out[i] = p === null ? null : p * scale;
      }
      return out;
    }
    case "sum":
    case "mean":
    case "rate": {
      const found = e.cols.map(get).filter((a) => a !== undefined);
      const arrays = e.k === "rate" ? found.map((a) => counterRates(r.t, a)) : found;
      if (arrays.length === 0) return null;
      for (let i = 0; i < n; i++) {
        let s = 0, k = 0;
        for (const a of arrays) {
          const v = a[i];
          if (v != null) {
            s += v;
            k++;
          }
        }
        out[i] = k === 0 ? null : (e.k === "mean" ? s / k : s) * scale;
      }
      return out;
    }
  }
}

/** A block being filled: `add` stores a series once (the same key gives the same index). */
function block(r: SeriesResult, gap: number | null) {
  const dt = new Array<number>(Math.max(0, r.t.length - 1));
  for (let i = 1; i < r.t.length; i++) dt[i - 1] = Math.round(r.t[i]! - r.t[i - 1]!);
  const b: DataBlock = {
    t0: Math.round(r.t[0] ?? r.start),
    dt,
    s: [],
    rows: r.rows,
    reduced: r.reduced,
    gap,
  };
  const seen = new Map<string, number>();
  /** `whole`: rounded to integers (a heatmap's colours need no more). */
  const add = (s: SeriesSpec, whole = false): number | null => {
    const key = JSON.stringify([s.expr, s.scale, whole]);
    const known = seen.get(key);
    if (known !== undefined) return known;
    const v = evaluate(s.expr, r, s.scale);
    if (!v) return null;
    const round = whole ? Math.round : round4;
    const i = b.s.push(v.map((x) => (x === null ? null : round(x)))) - 1;
    seen.set(key, i);
    return i;
  };
  return { block: b, add };
}

function newest(v: (number | null)[]): number | null {
  for (let i = v.length - 1; i >= 0; i--) if (v[i] != null) return v[i]!;
  return null;
}

/** Formats a card's value: 3 significant digits, thousands separated. */
export function formatValue(v: number | null, unit: string): string {
  if (v === null) return "—";
  const abs = Math.abs(v);
  const text = abs >= 1000 || Number.isInteger(v)
    ? Math.round(v).toLocaleString("en-US")
    : abs >= 100
    ? v.toFixed(0)
    : abs >= 10
    ? v.toFixed(1)
    : v.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

/**
 * Turns a plan and the answers to its queries into what the views render; `gap`: the step
 * (ms) past which successive samples have a hole between them.
 */
export function buildTab(
  plan: TabPlan,
  results: SeriesResult[],
  meta: TraceMeta,
  gap: number | null = null,
): TabModel {
  const names = new Set(meta.columns.map((c) => c.name));
  const blocks = results.map((r) => block(r, gap === null ? null : Math.round(gap)));
  const charts: ChartModel[] = [];
  for (const spec of plan.charts) {
    const r = results[spec.block];
    const b = blocks[spec.block];
    const series: SeriesModel[] = [];
    let empty = true;
    for (const s of spec.series) {
      if (!exprColumns(s.expr).some((c) => names.has(c)) || !r || !b) continue;
      const i = b.add(s, spec.whole);
      if (i === null) continue;
      if (b.block.s[i]!.some((x) => x !== null)) empty = false;
      series.push({ label: s.label, i });
    }
    const base = {
      id: spec.id,
      title: spec.title,
      unit: spec.unit,
      help: spec.help,
      kind: spec.kind,
      block: spec.block,
      y: spec.y,
      wide: spec.wide,
    };
    if (series.length === 0) {
      charts.push({ ...base, series, hidden: `Not in this trace: needs ${spec.needs}.` });
    } else charts.push({ ...base, series, empty: empty || undefined });
  }
  for (const bar of plan.bars) {
    charts.push({
      id: bar.id,
      title: bar.title,
      unit: bar.unit,
      help: "newest sample of the view",
      kind: "bars",
      block: 0,
      series: [],
      bars: { labels: bar.labels, values: bar.values.map((v) => (v === null ? null : round4(v))) },
      empty: bar.values.every((v) => v === null) || undefined,
    });
  }
  const r0 = results[0];
  const cards: CardModel[] = plan.cards.map((c) => {
    if (c.text !== undefined) {
      return { id: c.id, label: c.label, unit: c.unit, value: c.text, spark: null };
    }
    if (!c.series) {
      return {
        id: c.id,
        label: c.label,
        unit: c.unit,
        value: formatValue(r0?.rows ?? 0, ""),
        spark: null,
      };
    }
    const has = exprColumns(c.series.expr).some((x) => names.has(x));
    const i = has && r0 ? blocks[0]!.add(c.series) : null;
    if (i === null) return { id: c.id, label: c.label, unit: c.unit, value: "—", spark: null };
    return {
      id: c.id,
      label: c.label,
      unit: c.unit,
      value: formatValue(newest(blocks[0]!.block.s[i]!), c.unit),
      spark: i,
      sparkLabel: c.series.label,
    };
  });
  return {
    tab: plan.tab,
    charts,
    cards,
    blocks: blocks.map((b) => b.block),
    notes: plan.notes,
    containers: plan.containers,
    rows: r0?.rows ?? 0,
  };
}

/** Newest non-null value of each column of an answer. */
export function latestValues(r: SeriesResult): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const [c, v] of Object.entries(r.series)) out.set(c, newest(v));
  return out;
}

/** The busiest processes of a process list, by CPU. */
export function topProcesses(list: ProcessEntry[], n = 15): ProcessEntry[] {
  return [...list].sort((a, b) => (b.cpu_percent ?? -1) - (a.cpu_percent ?? -1)).slice(0, n);
}
