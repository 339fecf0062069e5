// What a tab asks for: chart, card and bar specs, the queries (blocks) they read, and the small
// builders the tab planners (tabs/*.ts) share. Column names and derived metrics come from
// src/schema; `col()` refuses a name the schema does not define, so a renamed column fails the
// tests instead of hiding a chart.
import { columnDef } from "../schema/columns.ts";
import {
  counterRateFormula,
  cpuBusyFormula,
  type Formula,
  MEMORY_PERCENT,
  type RateFormula,
  type SumFormula,
} from "../schema/derived.ts";
import type { TabName, ViewState } from "./state.ts";
import type { ColumnInfo } from "./types.ts";

/** x positions asked for a full-width chart (about its pixel width). */
export const CHART_POINTS = 800;
/** x positions for a tab of half-width charts (two side by side). */
export const HALF_CHART_POINTS = 500;
/** Values in a per-core heatmap at most (cores × x positions), to keep the page small. */
export const HEATMAP_CELLS = 16_000;
/** Per-core lines are drawn up to this many cores; beyond, only the heatmap. */
export const MAX_CORE_LINES = 16;

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** A column src/schema/columns.ts defines (throws on a name it does not know). */
export function col(name: string): string {
  if (!columnDef(name)) {
    throw new Error(`views: '${name}' is not a column of src/schema/columns.ts`);
  }
  return name;
}

/** A schema formula (column, ratio × 100, mean), the sum of columns, or counters' rate. */
export type Expr = Formula | SumFormula | RateFormula;

export interface SeriesSpec {
  label: string;
  expr: Expr;
  /** Multiplier from the column's unit to the chart's. */
  scale: number;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** Unit of the y axis as shown ("%", "MiB/s", "GiB", "/s", ""). */
  unit: string;
  help: string;
  kind: "line" | "heatmap";
  /** Query (data block) the chart's series come from. */
  block: number;
  series: SeriesSpec[];
  /** Fixed y range (percentages). */
  y?: [number, number];
  wide?: boolean;
  /** Values rounded to integers (per-core percentages: a colour or a line needs no more). */
  whole?: boolean;
  /** What the chart needs, said when the trace lacks it. */
  needs: string;
}

export interface BarSpec {
  id: string;
  title: string;
  unit: string;
  labels: string[];
  values: (number | null)[];
}

export interface CardSpec {
  id: string;
  label: string;
  unit: string;
  /** Series (of block 0) whose newest value the card shows and whose sparkline it draws. */
  series: SeriesSpec | null;
  /** A fixed text instead (Events, until events exist). */
  text?: string;
}

export interface TabPlan {
  tab: TabName;
  /** One query per block: its columns and points. */
  blocks: { columns: string[]; points: number }[];
  charts: ChartSpec[];
  cards: CardSpec[];
  bars: BarSpec[];
  /** Container names found, and the ones shown (containers tab). */
  containers?: { all: string[]; shown: string[]; auto: boolean };
  /** Said above the charts (e.g. "No GPU columns in this trace."). */
  notes: string[];
}

/** Everything a plan depends on besides the tab and the view. */
export interface PlanInput {
  columns: ColumnInfo[];
  /** Newest value of every container CPU and memory column (containers tab). */
  latest?: Map<string, number | null>;
  /** x positions per query instead of the chart width (the benchmark's send-everything baseline). */
  points?: number;
}

/** What one tab's planner reads; it adds its charts, cards, bars and notes to `plan`. */
export interface TabInput {
  plan: TabPlan;
  /** The trace's column names. */
  names: ReadonlySet<string>;
  state: ViewState;
  input: PlanInput;
}

export const line = (label: string, c: string, scale = 1): SeriesSpec => ({
  label,
  expr: { k: "col", col: c },
  scale,
});

/** The columns an expression reads. */
export function exprColumns(e: Expr): string[] {
  switch (e.k) {
    case "col":
      return [e.col];
    case "ratio":
      return [e.num, e.den];
    case "sum":
    case "mean":
    case "rate":
      return e.cols;
  }
}

/**
 * The per-second rate of cumulative `counters` (summed): their `_per_sec` columns, or
 * computed from the counters where the trace has only those (the original tool's files).
 */
export const rate = (
  label: string,
  names: ReadonlySet<string>,
  counters: string[],
  scale = 1,
): SeriesSpec => ({ label, expr: counterRateFormula(names, counters), scale });

/** The CPU busy series: the schema's CPU busy % of a trace with these columns. */
export function cpuSeries(names: ReadonlySet<string>, label = "CPU busy"): SeriesSpec {
  return { label, expr: cpuBusyFormula(names), scale: 1 };
}

/** The memory used series: the schema's memory %. */
export const memPct = (label = "Memory used"): SeriesSpec => ({
  label,
  expr: MEMORY_PERCENT,
  scale: 1,
});

/** A line chart of block 0; help lists its columns' meaning unless given. */
export function chart(
  id: string,
  title: string,
  unit: string,
  series: SeriesSpec[],
  opts: Partial<Omit<ChartSpec, "id" | "title" | "unit" | "series">> = {},
): ChartSpec {
  const cols = series.flatMap((s) => exprColumns(s.expr));
  const help = opts.help ?? cols.map((c) => `${c}: ${columnDef(c)?.help ?? ""}`).join("\n");
  return {
    id,
    title,
    unit,
    help,
    kind: "line",
    block: 0,
    series,
    needs: cols.join(", "),
    ...opts,
  };
}
