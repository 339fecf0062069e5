// Processes in JavaScript: the rows a scan in DuckDB does not see (the journal's, and sysmon's
// CSV, whose lists are JSON text), the answers of several files or of a file and its journal
// merged, and the top processes of a metric. Everything here holds one entry per distinct
// process or per bucket, never one per sample.
import type { ProcessRecord } from "../schema/column_types.ts";
import type {
  ProcessField,
  ProcessKey,
  ProcessList,
  ProcessListQuery,
  ProcessMetric,
  ProcessOrder,
  ProcessSeriesResult,
  ProcessSummary,
} from "../views/types.ts";

export const PROCESS_METRICS: readonly ProcessMetric[] = ["cpu", "memory", "io", "gpu"];
export const PROCESS_SERIES_FIELDS: readonly ProcessField[] = [
  "cpu",
  "memory",
  "io",
  "gpu",
  "read",
  "write",
  "threads",
];

/** One string per process (pid and name). */
export const keyOf = (k: ProcessKey): string => `${k.pid}\0${k.name}`;

const num = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : typeof v === "bigint" ? Number(v) : null;

/** A field of one process at one sample (I/O: read + write, null when neither is known). */
export function fieldValue(r: ProcessRecord, f: ProcessField): number | null {
  switch (f) {
    case "cpu":
      return num(r.cpu_percent);
    case "memory":
      return num(r.rss_bytes);
    case "gpu":
      return num(r.gpu_memory_bytes);
    case "read":
      return num(r.read_bytes_per_sec);
    case "write":
      return num(r.write_bytes_per_sec);
    case "threads":
      return num(r.threads);
    case "io": {
      const a = num(r.read_bytes_per_sec), b = num(r.write_bytes_per_sec);
      return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
    }
  }
}

/** The search of a process list: text in the name or command line (any case), or the PID. */
export function searchText(search: string | undefined): string | null {
  const s = (search ?? "").trim();
  return s === "" ? null : s.slice(0, 200);
}

/** Whether a record is one the query asks for (its search, its keys). */
export function wanted(
  r: { pid: number; name: string; cmdline: string | null },
  search: string | null,
  keys: Set<string> | null,
): boolean {
  if (keys && !keys.has(keyOf(r))) return false;
  if (search === null) return true;
  const s = search.toLowerCase();
  return String(r.pid) === search || r.name.toLowerCase().includes(s) ||
    (r.cmdline ?? "").toLowerCase().includes(s);
}

const emptyMetrics = (): Record<ProcessMetric, number | null> => ({
  cpu: null,
  memory: null,
  io: null,
  gpu: null,
});

/** Per-process summaries of samples added one by one (the journal's rows, a CSV's). */
export class ProcessTally {
  private readonly map = new Map<string, ProcessSummary>();
  private readonly search: string | null;
  private readonly keys: Set<string> | null;

  constructor(q: Pick<ProcessListQuery, "search" | "keys">) {
    this.search = searchText(q.search);
    this.keys = q.keys ? new Set(q.keys.map(keyOf)) : null;
  }

  add(t: number, list: ProcessRecord[]) {
    for (const r of list) {
      if (typeof r?.pid !== "number" || !wanted(r, this.search, this.keys)) continue;
      const name = r.name ?? "";
      const k = keyOf({ pid: r.pid, name });
      let p = this.map.get(k);
      if (!p) {
        p = {
          pid: r.pid,
          name,
          user: null,
          cmdline: null,
          container: null,
          first: t,
          last: t,
          samples: 0,
          peak: emptyMetrics(),
          sum: emptyMetrics(),
        };
        this.map.set(k, p);
      }
      p.samples++;
      p.first = Math.min(p.first, t);
      if (t >= p.last) {
        p.last = t;
        p.user = r.user ?? null;
        p.cmdline = r.cmdline ?? null;
        p.container = r.container ?? null;
      }
      for (const m of PROCESS_METRICS) {
        const v = fieldValue(r, m);
        if (v === null) continue;
        p.peak[m] = Math.max(p.peak[m] ?? -Infinity, v);
        p.sum[m] = (p.sum[m] ?? 0) + v;
      }
    }
  }

  get size(): number {
    return this.map.size;
  }

  summaries(): ProcessSummary[] {
    return [...this.map.values()];
  }
}

const maxOf = (a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : Math.max(a, b);
const sumOf = (a: number | null, b: number | null) => a === null ? b : b === null ? a : a + b;

/** The summaries of parts of a trace as one per process. */
function mergeSummaries(lists: ProcessSummary[][]): ProcessSummary[] {
  const map = new Map<string, ProcessSummary>();
  for (const list of lists) {
    for (const p of list) {
      const k = keyOf(p);
      const q = map.get(k);
      if (!q) {
        map.set(k, { ...p, peak: { ...p.peak }, sum: { ...p.sum } });
        continue;
      }
      if (p.last >= q.last) {
        q.user = p.user;
        q.cmdline = p.cmdline;
        q.container = p.container;
      }
      q.first = Math.min(q.first, p.first);
      q.last = Math.max(q.last, p.last);
      q.samples += p.samples;
      for (const m of PROCESS_METRICS) {
        q.peak[m] = maxOf(q.peak[m], p.peak[m]);
        q.sum[m] = sumOf(q.sum[m], p.sum[m]);
      }
    }
  }
  return [...map.values()];
}

/** The value an order sorts by (higher first). */
function orderValue(p: ProcessSummary, by: ProcessOrder): number | null {
  if (by === "last") return p.last;
  const [m, stat] = by.split("_") as [ProcessMetric, "peak" | "sum"];
  return p[stat][m];
}

/** Highest first, unknown last, then by PID and name (as the SQL of process_series.ts). */
export function compareBy(by: ProcessOrder): (a: ProcessSummary, b: ProcessSummary) => number {
  return (a, b) => {
    const x = orderValue(a, by), y = orderValue(b, by);
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return y - x;
    }
    return a.pid - b.pid || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  };
}

/** The first `limit` processes of each order, each once. */
export function pickOrders(
  all: ProcessSummary[],
  orders: ProcessListQuery["orders"],
): ProcessSummary[] {
  const out = new Map<string, ProcessSummary>();
  for (const o of orders) {
    for (const p of [...all].sort(compareBy(o.by)).slice(0, Math.max(0, o.limit))) {
      out.set(keyOf(p), p);
    }
  }
  return [...out.values()];
}

/**
 * `q` for one part of a range: every process it saw, whatever the limits (a process that is
 * in no part's top K can be the top of the whole, and a listed one's sums need every part).
 */
export function wholeList(q: ProcessListQuery): ProcessListQuery {
  return { ...q, orders: q.orders.map((o) => ({ ...o, limit: Number.MAX_SAFE_INTEGER })) };
}

/** Lists of parts of a range (files, a file and its journal) as one; parts asked wholeList(q). */
export function mergeLists(
  parts: ProcessList[],
  q: ProcessListQuery,
  start: number,
  end: number,
): ProcessList {
  const merged = mergeSummaries(parts.map((p) => p.processes));
  return {
    start,
    end,
    recorded: parts.some((p) => p.recorded),
    total: Math.max(merged.length, ...parts.map((p) => p.total)),
    processes: pickOrders(merged, q.orders),
  };
}

/**
 * The `k` processes that stand out in a metric: ranked by the better of their rank by peak
 * and their rank by sum, so that both a short burst and a steady load are shown. Processes
 * whose peak is zero or unknown are left out.
 */
export function topProcesses(
  list: ProcessSummary[],
  metric: ProcessMetric,
  k: number,
): ProcessSummary[] {
  const live = list.filter((p) => (p.peak[metric] ?? 0) > 0);
  const rank = (by: ProcessOrder) => {
    const r = new Map<ProcessSummary, number>();
    [...live].sort(compareBy(by)).forEach((p, i) => r.set(p, i));
    return r;
  };
  const byPeak = rank(`${metric}_peak`), bySum = rank(`${metric}_sum`);
  const score = (p: ProcessSummary) => Math.min(byPeak.get(p)!, bySum.get(p)!);
  return live.sort((a, b) => score(a) - score(b) || compareBy(`${metric}_peak`)(a, b))
    .slice(0, k);
}

/** The orders whose first `k` hold every process `topProcesses` can pick, for each metric. */
export function topOrders(k: number): ProcessListQuery["orders"] {
  return PROCESS_METRICS.flatMap((m) => [
    { by: `${m}_peak` as ProcessOrder, limit: k },
    { by: `${m}_sum` as ProcessOrder, limit: k },
  ]);
}

type Values = Record<ProcessField, (number | null)[]>;

const emptyValues = (n: number): Values =>
  Object.fromEntries(PROCESS_SERIES_FIELDS.map((f) => [f, new Array(n).fill(null)])) as Values;

/**
 * Samples bucketed in JavaScript (a CSV's lists): per bucket of `width` ms (counted from the
 * epoch), its first sample's time and each process's highest value of each field.
 */
export class SeriesBuckets {
  private readonly index = new Map<number, number>();
  private readonly times: number[] = [];
  private readonly values = new Map<string, Values>();
  private readonly keys: Set<string>;
  rows = 0;

  constructor(private readonly asked: ProcessKey[], private readonly width: number) {
    this.keys = new Set(asked.map(keyOf));
  }

  add(t: number, list: ProcessRecord[] | null) {
    this.rows++;
    const b = Math.floor(t / this.width);
    let i = this.index.get(b);
    if (i === undefined) {
      i = this.times.push(t) - 1;
      this.index.set(b, i);
    } else if (t < this.times[i]!) this.times[i] = t;
    for (const r of list ?? []) {
      const k = keyOf({ pid: r.pid, name: r.name ?? "" });
      if (!this.keys.has(k)) continue;
      let v = this.values.get(k);
      if (!v) {
        this.values.set(
          k,
          v = { cpu: [], memory: [], io: [], gpu: [], read: [], write: [], threads: [] },
        );
      }
      for (const f of PROCESS_SERIES_FIELDS) {
        const x = fieldValue(r, f);
        if (x !== null) v[f][i] = maxOf(v[f][i] ?? null, x);
      }
    }
  }

  result(start: number, end: number): ProcessSeriesResult {
    const order = this.times.map((_, i) => i).sort((a, b) => this.times[a]! - this.times[b]!);
    return {
      start,
      end,
      rows: this.rows,
      t: order.map((i) => this.times[i]!),
      series: this.asked.map((k) => {
        const v = this.values.get(keyOf(k));
        const values = emptyValues(order.length);
        if (v) {
          for (const f of PROCESS_SERIES_FIELDS) {
            order.forEach((i, j) => (values[f][j] = v[f][i] ?? null));
          }
        }
        return { pid: k.pid, name: k.name, values };
      }),
    };
  }
}

/** Answers for consecutive parts of a range as one, in time order. */
export function joinProcessSeries(
  keys: ProcessKey[],
  parts: ProcessSeriesResult[],
  start: number,
  end: number,
): ProcessSeriesResult {
  const t: number[] = [];
  const series = keys.map((k) => ({ pid: k.pid, name: k.name, values: emptyValues(0) }));
  let rows = 0;
  for (const p of parts) {
    rows += p.rows;
    t.push(...p.t);
    const byKey = new Map(p.series.map((s) => [keyOf(s), s]));
    for (const s of series) {
      const mine = byKey.get(keyOf(s));
      for (const f of PROCESS_SERIES_FIELDS) {
        s.values[f].push(...(mine?.values[f] ?? new Array(p.t.length).fill(null)));
      }
    }
  }
  if (t.every((x, i) => i === 0 || x >= t[i - 1]!)) return { start, end, rows, t, series };
  // Files that overlap in time (a run and a snapshot of it): sorted.
  const order = t.map((_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  for (const s of series) {
    for (const f of PROCESS_SERIES_FIELDS) {
      const v = s.values[f];
      s.values[f] = order.map((i) => v[i] ?? null);
    }
  }
  return { start, end, rows, t: order.map((i) => t[i]!), series };
}
