// The processes of several traces compared: the Processes tab (one list naming each process's
// trace, charts with a line per process and trace, `name (pid) · host`) and the CPU & Memory
// tab's processes at a time (one list per trace). Each trace is read in its own time (the
// view's window plus its offset) and shown in aligned time, as compare.ts does its charts.
import { findProcess, historyWindow, topProcessSeries } from "../query/process_charts.ts";
import { compareBy, topOrders } from "../query/process_merge.ts";
import { messageOf } from "../schema/refusal.ts";
import { mergeTabs } from "../views/compare_tab.ts";
import type {
  PageModel,
  ProcessesModel,
  ProcessesTabModel,
  TraceProcessesModel,
} from "../views/model.ts";
import { processCharts, TOP_PROCESSES } from "../views/tabs/processes.ts";
import type { ProcessKey, ProcessSeriesResult, ProcessSummary } from "../views/types.ts";
import type { Loaded } from "./compare.ts";
import { LIST_LIMIT, scanned } from "./process_model.ts";

type Range = { start: number; end: number };

/** A range of aligned time in the trace's own time. */
const ownRange = (r: Range, l: Loaded): Range => ({
  start: r.start + l.offset,
  end: r.end + l.offset,
});

/** A process's summary with its times aligned. */
const aligned = (p: ProcessSummary, l: Loaded): ProcessSummary =>
  l.offset === 0 ? p : { ...p, first: p.first - l.offset, last: p.last - l.offset };

function alignedSeries(r: ProcessSeriesResult, offset: number): ProcessSeriesResult {
  if (offset === 0) return r;
  return { ...r, start: r.start - offset, end: r.end - offset, t: r.t.map((x) => x - offset) };
}

const same = (a: ProcessKey, b: ProcessKey) => a.pid === b.pid && a.name === b.name;

/**
 * Fills `m.procs`, `m.tab` and the window of a Processes tab over the traces `loaded`
 * (compare.ts loadCompared done). Each trace reads at most MAX_PROCESS_SAMPLES samples.
 */
export async function fillComparedProcesses(
  m: PageModel,
  loaded: Loaded[],
  zone: string | undefined,
  points: number,
): Promise<void> {
  const s = m.state;
  const w = m.window!;
  const plain = !s.find;
  const lists = await Promise.all(loaded.map(async (l) => {
    const range = scanned(l.meta.sampleInterval, ownRange(w, l));
    const listing = await l.src.processList({
      ...range,
      sourceZone: zone,
      search: s.find,
      orders: [{ by: "cpu_peak", limit: LIST_LIMIT }, ...(plain ? topOrders(TOP_PROCESSES) : [])],
    });
    return { l, range, listing };
  }));
  const rows = lists.flatMap(({ l, listing }) =>
    [...listing.processes].sort(compareBy("cpu_peak")).slice(0, LIST_LIMIT)
      .map((p) => ({ ...aligned(p, l), trace: l.t.index }))
  ).sort(compareBy("cpu_peak"));
  const listRange = {
    start: Math.max(w.start, Math.min(...lists.map((x) => x.range.start - x.l.offset))),
    end: w.end,
  };
  const procs: ProcessesTabModel = {
    recorded: lists.some((x) => x.listing.recorded),
    list: rows,
    limit: LIST_LIMIT,
    total: lists.reduce((n, x) => n + x.listing.total, 0),
    listRange,
    clipped: lists.some((x) => x.range.start > w.start + x.l.offset),
    selected: null,
    top: TOP_PROCESSES,
    error: null,
    traces: loaded.map((l) => ({ index: l.t.index, name: l.name, slot: l.t.index })),
    unrecorded: lists.filter((x) => !x.listing.recorded).map((x) => x.l.name),
  };
  m.procs = procs;
  if (!procs.recorded) return;
  // The process picked, in its trace (the first shown when the link names none).
  const key = s.proc ?? null;
  const pickedIndex = s.trace ?? loaded[0]!.t.index;
  const picked = key ? lists.find((x) => x.l.t.index === pickedIndex) : undefined;
  if (key) {
    const found = picked
      ? picked.listing.processes.find((p) => same(p, key)) ??
        await findProcess(picked.l.src, key, { ...picked.range, sourceZone: zone })
      : null;
    procs.selected = { key, summary: found && aligned(found, picked!.l), trace: pickedIndex };
  }
  const own = procs.selected?.summary ?? null;
  const window = own && !s.zoom ? historyWindow(own, listRange) : listRange;
  const tabs = await Promise.all(lists.map(async ({ l, range, listing }) => {
    const mine = own !== null && picked?.l === l;
    // Not narrowed to a process: the trace's own range (its list answers the charts).
    const o = window === listRange ? range : ownRange(window, l);
    const win = { start: Math.max(o.start, range.start), end: Math.min(o.end, range.end) };
    const whole = win.start === range.start && win.end === range.end;
    const top = win.end > win.start
      ? await topProcessSeries(l.src, {
        ...win,
        points,
        top: TOP_PROCESSES,
        sourceZone: zone,
        also: mine && key ? [key] : [],
        list: whole && plain ? listing : undefined,
      })
      : null;
    return processCharts({
      state: { ...s, trace: l.t.index },
      series: top
        ? alignedSeries(top.series, l.offset)
        : { start: window.start, end: window.end, rows: 0, t: [], series: [] },
      top: top?.top ?? { cpu: [], memory: [], io: [], gpu: [] },
      one: mine ? key : null,
    });
  }));
  m.window = { ...window, rangeStart: w.rangeStart };
  m.tab = mergeTabs(tabs.map((tab, k) => ({
    tab,
    name: lists[k]!.l.name,
    slot: lists[k]!.l.t.index,
  })));
}

/**
 * Each trace's processes at `at` (aligned time; null: each trace's newest sample in the
 * window `w`), read at its sample nearest `at` plus its offset; times aligned.
 */
export async function processesAtEach(
  loaded: Loaded[],
  at: number | null,
  w: { end: number } | null,
  zone: string | undefined,
): Promise<TraceProcessesModel[]> {
  return await Promise.all(loaded.map(async (l): Promise<TraceProcessesModel> => {
    const asked = at === null
      ? Math.min((w?.end ?? Infinity) + l.offset, l.meta.last!)
      : at + l.offset;
    const p: ProcessesModel = {
      at: null,
      asked: asked - l.offset,
      list: [],
      total: 0,
      error: null,
    };
    try {
      const r = await l.src.processesAt(asked, zone);
      p.at = r.at === null ? null : r.at - l.offset;
      p.list = r.processes;
      p.total = r.processes.length;
      const near = Math.max(5000, 5 * (l.meta.sampleInterval ?? 1) * 1000);
      if (r.at !== null && Math.abs(r.at - asked) > near) {
        p.note = `${l.name} has no sample near the time asked: its nearest one is listed.`;
      }
    } catch (err) {
      p.error = messageOf(err);
    }
    return { name: l.name, slot: l.t.index, p };
  }));
}
