// Several traces side by side (`sysmon serve A B …`): one open TraceSource per trace, and the
// chart tabs built from all of them. Each trace is read in its own zone and planned over the
// columns any of them has (a column one trace lacks is absent from its series, not an error);
// times are aligned as recorded ("wall", instants) or from each trace's first sample
// ("start", elapsed ms: the page shows them as a clock from 0:00:00 in UTC).
import { emptyResult } from "../query/reduce.ts";
import { holeLimit } from "../query/gaps.ts";
import { messageOf } from "../schema/refusal.ts";
import { buildTab, latestValues, type PlanInput, planTab, type TabPlan } from "../views/charts.ts";
import type { ComparedTraceModel } from "../views/compare.tsx";
import { mergeTabs } from "../views/compare_tab.ts";
import type { PageModel } from "../views/model.ts";
import { fitZoom, type TabName, type ViewState, viewWindow } from "../views/state.ts";
import { containerLatestColumns } from "../views/tab_plan.ts";
import type { ColumnInfo, SeriesResult, TraceMeta, TraceSource } from "../views/types.ts";
import { type ComparedTrace, type Comparison, described } from "./comparison.ts";

/**
 * The tabs that draw every trace shown; the other one (the Process Tree) shows this machine's
 * processes, not a trace's.
 */
export const COMPARED_TABS: TabName[] = [
  "overview",
  "cpu",
  "io",
  "gpu",
  "containers",
  "processes",
];

/** A trace shown that has samples, read. */
export interface Loaded {
  t: ComparedTrace;
  src: TraceSource;
  meta: TraceMeta;
  host: string;
  label: string;
  /** What legends call it (the host, or host and start where hosts repeat). */
  name: string;
  /** Subtracted from its times: 0 (wall) or its first sample (start). */
  offset: number;
}

/** The traces as the page lists them, and those shown that have samples (read). */
async function compareModels(cmp: Comparison, s: PageModel["state"], zone: string | undefined) {
  const traces = cmp.traces();
  const shownIdx = new Set(
    (s.traces ?? []).filter((i) => traces.some((t) => t.index === i)),
  );
  const shown = (t: ComparedTrace) => shownIdx.size === 0 || shownIdx.has(t.index);
  const models: ComparedTraceModel[] = [];
  const loaded: Loaded[] = [];
  for (const t of traces) {
    const tm: ComparedTraceModel = {
      index: t.index,
      path: t.spec.path,
      label: t.spec.path,
      name: t.spec.path,
      slot: t.index,
      shown: shown(t),
      problem: null,
    };
    models.push(tm);
    try {
      const src = await t.holder.get();
      const meta = await src.meta(zone);
      const d = described(meta, s.tz);
      tm.label = d.label;
      tm.name = d.host;
      if (meta.first === null || meta.last === null || meta.rows === 0) tm.problem = "no samples";
      else if (tm.shown) {
        loaded.push({ t, src, meta, host: d.host, label: d.label, name: d.host, offset: 0 });
      }
    } catch (err) {
      tm.problem = messageOf(err);
    }
  }
  // Hosts that repeat (runs of one job): the legends name the start too.
  for (const tm of models) {
    if (models.filter((x) => x.name === tm.name).length > 1) tm.name = tm.label;
  }
  for (const l of loaded) l.name = models.find((x) => x.index === l.t.index)!.name;
  return { models, loaded };
}

/**
 * Reads the traces shown (m.state says which, and the alignment) and sets m.compare,
 * m.version, m.meta (the first trace's, with the traces' span) and m.window (aligned time);
 * the traces with samples, each with its offset (none: m.problem says so).
 */
export async function loadCompared(
  m: PageModel,
  cmp: Comparison,
  zone: string | undefined,
): Promise<Loaded[]> {
  const s = m.state;
  const { models, loaded } = await compareModels(cmp, s, zone);
  const overlap = loaded.length > 1 &&
    Math.max(...loaded.map((l) => l.meta.first!)) <= Math.min(...loaded.map((l) => l.meta.last!));
  const align = s.align ?? (overlap || loaded.length < 2 ? "wall" : "start");
  const drawn = COMPARED_TABS.includes(s.tab);
  m.compare = { traces: models, align, overlap, drawn };
  m.version = await cmp.version();
  if (loaded.length === 0) {
    m.problem = { kind: "waiting", message: "None of the traces shown has samples (yet)." };
    return loaded;
  }
  if (align === "start") { for (const l of loaded) l.offset = l.meta.first!; }
  const first = Math.min(...loaded.map((l) => l.meta.first! - l.offset));
  const last = Math.max(...loaded.map((l) => l.meta.last! - l.offset));
  const meta0 = loaded[0]!.meta;
  m.meta = {
    ...meta0,
    first,
    last,
    rows: loaded.reduce((n, l) => n + l.meta.rows, 0),
    host: loaded.map((l) => l.host).join(", "),
  };
  Object.assign(s, fitZoom(s, first, last));
  m.window = viewWindow(s, first, last);
  return loaded;
}

/** The chart tab of `m` (loadCompared done) over the traces `loaded`. */
export async function fillCompared(
  m: PageModel,
  loaded: Loaded[],
  zone: string | undefined,
  points?: number,
): Promise<void> {
  const s = m.state;
  const w = m.window!;
  const columns = new Map<string, ColumnInfo>();
  for (const l of loaded) {
    for (const c of l.meta.columns) if (!columns.has(c.name)) columns.set(c.name, c);
  }
  const input = { columns: [...columns.values()], points };
  // Containers: each trace's newest values (its last minute); the busiest of all are shown.
  const recent = { start: w.end - 60_000, end: w.end };
  const newestCols = containerLatestColumns(input.columns);
  const latest = s.tab === "containers"
    ? await Promise.all(
      loaded.map(async (l) => latestValues(await shifted(l, newestCols, recent, 1000, zone))),
    )
    : undefined;
  const plan = planTab(s.tab, s, { ...input, latest: latest && maxOf(latest) });
  const tabs = await Promise.all(loaded.map(async (l, k) => {
    const results = await Promise.all(
      plan.blocks.map((b) => shifted(l, b.columns, w, b.points, zone)),
    );
    const own = latest ? ownBars(plan, s, { ...input, latest: latest[k] }) : plan;
    return buildTab(own, results, l.meta, holeLimit(l.meta.sampleInterval));
  }));
  m.tab = mergeTabs(loaded.map((l, k) => ({ tab: tabs[k]!, name: l.name, slot: l.t.index })));
}

/** Each column's largest newest value over the traces. */
function maxOf(maps: Map<string, number | null>[]): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const m of maps) {
    for (const [c, v] of m) {
      const was = out.get(c) ?? null;
      out.set(c, v === null ? was : was === null ? v : Math.max(was, v));
    }
  }
  return out;
}

/** `plan` with its bars over one trace's newest values (the containers all traces show). */
function ownBars(
  plan: TabPlan,
  s: ViewState,
  input: PlanInput,
): TabPlan {
  const containers = plan.containers?.shown ?? [];
  if (containers.length === 0) return plan;
  return { ...plan, bars: planTab(s.tab, { ...s, containers }, input).bars };
}

/** The bar naming the traces, for a tab that shows no trace's data (the Process Tree). */
export async function compareBar(
  m: PageModel,
  cmp: Comparison,
  zone: string | undefined,
): Promise<void> {
  const { models } = await compareModels(cmp, m.state, zone);
  m.compare = { traces: models, align: m.state.align ?? "wall", overlap: false, drawn: false };
  m.version = await cmp.version();
}

/** A trace's answer for the window (in aligned time), its times aligned. */
async function shifted(
  l: Loaded,
  columns: string[],
  w: { start: number; end: number },
  points: number,
  zone: string | undefined,
): Promise<SeriesResult> {
  const start = Math.max(w.start + l.offset, l.meta.first!);
  const end = Math.min(w.end + l.offset, l.meta.last!);
  if (columns.length === 0 || end < start) return emptyResult(w.start, w.end);
  const r = await l.src.series({ columns, start, end, points, sourceZone: zone });
  if (l.offset === 0) return r;
  return {
    ...r,
    start: r.start - l.offset,
    end: r.end - l.offset,
    t: r.t.map((x) => x - l.offset),
  };
}
