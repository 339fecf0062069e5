// What the Processes tab and /api/processes/* ask of any trace (TraceSource): the top
// processes of each metric over a range with their series, and one process found and its own
// history. Two queries for the charts whatever the range: one list that holds every process a
// chart can pick (process_merge.ts topOrders), then the series of those picked.
import type {
  ProcessKey,
  ProcessList,
  ProcessMetric,
  ProcessSeriesResult,
  ProcessSummary,
  TraceSource,
} from "../views/types.ts";
import { keyOf, PROCESS_METRICS, topOrders, topProcesses } from "./process_merge.ts";

export interface TopProcessesQuery {
  start?: number;
  end?: number;
  points: number;
  /** Processes per metric. */
  top: number;
  sourceZone?: string;
  /** Processes whose series are wanted too (the one picked). */
  also?: ProcessKey[];
  /** The list of the same range, when the caller has it (asked with topOrders(top) in it). */
  list?: ProcessList;
}

export interface TopProcesses {
  /** False when the trace has no per-process records. */
  recorded: boolean;
  list: ProcessList;
  /** Per metric, its top processes, in legend order. */
  top: Record<ProcessMetric, ProcessSummary[]>;
  /** The series of every process of `top` and of `also`. */
  series: ProcessSeriesResult;
}

/** The top processes of each metric over a range, and their series. */
export async function topProcessSeries(
  src: TraceSource,
  q: TopProcessesQuery,
): Promise<TopProcesses> {
  const list = q.list ??
    await src.processList({
      start: q.start,
      end: q.end,
      sourceZone: q.sourceZone,
      orders: topOrders(q.top),
    });
  const top = Object.fromEntries(
    PROCESS_METRICS.map((m) => [m, topProcesses(list.processes, m, q.top)]),
  ) as Record<ProcessMetric, ProcessSummary[]>;
  const keys = new Map<string, ProcessKey>();
  for (const k of [...PROCESS_METRICS.flatMap((m) => top[m]), ...(q.also ?? [])]) {
    keys.set(keyOf(k), { pid: k.pid, name: k.name });
  }
  const series = await src.processSeries({
    keys: [...keys.values()],
    start: list.start,
    end: list.end,
    points: q.points,
    sourceZone: q.sourceZone,
  });
  return { recorded: list.recorded, list, top, series };
}

/** What a range knows of one process (null: it is not listed there). */
export async function findProcess(
  src: TraceSource,
  key: ProcessKey,
  q: { start?: number; end?: number; sourceZone?: string },
): Promise<ProcessSummary | null> {
  const r = await src.processList({ ...q, keys: [key], orders: [{ by: "last", limit: 1 }] });
  return r.processes[0] ?? null;
}

/**
 * The window of a process's own history: its lifetime and a tenth of it on either side (5 s
 * at least), inside `range`.
 */
export function historyWindow(
  p: ProcessSummary,
  range: { start: number; end: number },
): { start: number; end: number } {
  const pad = Math.max(5000, (p.last - p.first) / 10);
  const start = Math.max(range.start, Math.floor(p.first - pad));
  const end = Math.min(range.end, Math.ceil(p.last + pad));
  return end > start ? { start, end } : { start: range.start, end: range.end };
}
