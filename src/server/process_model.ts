// The Processes tab of a page: the list of the processes the view's range saw (the busiest by
// peak CPU, or those the search finds), the charts of the top processes of each metric, and
// the process picked with its own history. Picking one narrows the charts to its lifetime
// (unless the view is zoomed), so a process of 10 seconds in a day is drawn in detail.
import { findProcess, historyWindow, topProcessSeries } from "../query/process_charts.ts";
import { compareBy, topOrders } from "../query/process_merge.ts";
import type { PageModel, ProcessesTabModel } from "../views/model.ts";
import { processCharts, TOP_PROCESSES } from "../views/tabs/processes.ts";
import type { TraceSource } from "../views/types.ts";

/** Processes the list shows at most (the search finds the others). */
export const LIST_LIMIT = 100;

/**
 * Samples a Processes view reads at most: about 6 h at 1 s. Every process entry of every
 * sample is decoded (DuckDB 0.9 takes about 1.4 µs each, and blocks the server meanwhile): a
 * whole 11-day trace took 47 s. A longer range is read from its end; the tab says so.
 */
export const MAX_PROCESS_SAMPLES = 21_600;

/**
 * The newest part of `range` that holds at most MAX_PROCESS_SAMPLES samples of a trace
 * sampled every `interval` seconds (null: unknown, 1 s).
 */
export function scanned(
  interval: number | null | undefined,
  range: { start: number; end: number },
) {
  const step = (interval ?? 1) * 1000;
  const most = MAX_PROCESS_SAMPLES * Math.max(step, 100);
  return range.end - range.start > most ? { start: range.end - most, end: range.end } : range;
}

/** Fills `m.procs`, `m.tab` and the window of a Processes tab whose `m.window` is set. */
export async function fillProcesses(
  m: PageModel,
  src: TraceSource,
  sourceZone: string | undefined,
  points: number,
) {
  const s = m.state;
  const w = m.window!;
  const range = scanned(m.meta?.sampleInterval, { start: w.start, end: w.end });
  const plain = !s.find;
  // One query for the list and, without a search, for what the charts pick from.
  const listing = await src.processList({
    ...range,
    sourceZone,
    search: s.find,
    orders: [{ by: "cpu_peak", limit: LIST_LIMIT }, ...(plain ? topOrders(TOP_PROCESSES) : [])],
  });
  const procs: ProcessesTabModel = {
    recorded: listing.recorded,
    list: [...listing.processes].sort(compareBy("cpu_peak")).slice(0, LIST_LIMIT),
    limit: LIST_LIMIT,
    total: listing.total,
    listRange: range,
    clipped: range.start > w.start,
    selected: null,
    top: TOP_PROCESSES,
    error: null,
  };
  m.procs = procs;
  if (!listing.recorded) return;
  const key = s.proc ?? null;
  if (key) {
    const summary = listing.processes.find((p) => p.pid === key.pid && p.name === key.name) ??
      await findProcess(src, key, { ...range, sourceZone });
    procs.selected = { key, summary };
  }
  const own = procs.selected?.summary ?? null;
  const window = own && !s.zoom ? historyWindow(own, range) : range;
  const whole = window.start === range.start && window.end === range.end;
  const top = await topProcessSeries(src, {
    ...window,
    points,
    top: TOP_PROCESSES,
    sourceZone,
    also: own && key ? [key] : [],
    list: whole && plain ? listing : undefined,
  });
  m.window = { ...window, rangeStart: w.rangeStart };
  m.tab = processCharts({ state: s, series: top.series, top: top.top, one: own ? key : null });
}
