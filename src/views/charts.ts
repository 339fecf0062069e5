// Which charts each tab shows and the data they carry: pure functions from a trace's columns
// and query answers to chart models (no Deno, no SQL). Column names, units and meaning come from
// src/schema/columns.ts (and the GPU and container modules it points to); `col()` refuses a name
// those modules do not define, so a renamed column fails the tests instead of hiding a chart.
import { columnDef, cpuColumnName, rateName } from "../schema/columns.ts";
import { type DockerMetric, parseDockerColumn } from "../schema/docker_columns.ts";
import type { ColumnInfo, ProcessEntry, SeriesResult, TraceMeta } from "./types.ts";
import type { TabName, ViewState } from "./state.ts";

/** x positions asked for a full-width chart (about its pixel width). */
export const CHART_POINTS = 800;
/** x positions for a tab of half-width charts (two side by side). */
export const HALF_CHART_POINTS = 500;
/** Values in a per-core heatmap at most (cores × x positions), to keep the page small. */
const HEATMAP_CELLS = 16_000;
/** Per-core lines are drawn up to this many cores; beyond, only the heatmap. */
export const MAX_CORE_LINES = 16;

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A column src/schema/columns.ts defines (throws on a name it does not know). */
export function col(name: string): string {
  if (!columnDef(name)) {
    throw new Error(`views: '${name}' is not a column of src/schema/columns.ts`);
  }
  return name;
}

// ---- columns the tabs read (checked against src/schema/columns.ts at load)
const C = {
  cpuBusy: col("cpu_busy_percent"),
  cpuSplit: ["user", "nice", "system", "iowait", "irq", "steal"].map((k) =>
    [k, col(`cpu_${k}_percent`)] as const
  ),
  used: col("sys_used"),
  total: col("sys_total"),
  available: col("mem_available_bytes"),
  cached: col("mem_cached_bytes"),
  buffers: col("mem_buffers_bytes"),
  dirty: col("mem_dirty_bytes"),
  swapUsed: col("swap_used_bytes"),
  swapTotal: col("swap_total_bytes"),
  swapIn: col(rateName("swap_in_bytes")),
  swapOut: col(rateName("swap_out_bytes")),
  procs: col("system_process_count"),
  running: col("procs_running"),
  blocked: col("procs_blocked"),
  threads: col("system_thread_count"),
  openFiles: col("total_open_files"),
  maxFiles: col("max_files_count"),
  fdPct: col("fd_usage_percent"),
  load: ["1m", "5m", "15m"].map((k) => [k, col(`load_${k}`)] as const),
  psi: ["cpu", "memory", "io"].flatMap((r) =>
    ["some", "full"].map((w) => [`${r} ${w}`, col(`psi_${r}_${w}_avg10_percent`)] as const)
  ),
  ctx: col(rateName("context_switches")),
  irqs: col(rateName("interrupts")),
  netRecv: col(rateName("net_bytes_recv")),
  netSent: col(rateName("net_bytes_sent")),
  pktRecv: col(rateName("net_packets_recv")),
  pktSent: col(rateName("net_packets_sent")),
  netErr: (["errin", "errout", "dropin", "dropout"] as const).map((k) =>
    [k, col(rateName(`net_${k}`))] as const
  ),
  diskRead: col(rateName("disk_read_bytes")),
  diskWrite: col(rateName("disk_write_bytes")),
  iopsRead: col(rateName("disk_read_count")),
  iopsWrite: col(rateName("disk_write_count")),
  diskUtil: col("disk_util_percent"),
};

/** GPU i's column with `suffix`, checked against the GPU column table. */
const gpuCol = (i: number, suffix: string) => col(`gpu_${i}_${suffix}`);

// ---- specs

export type Expr =
  | { k: "col"; col: string }
  /** num / den × 100 */
  | { k: "ratio"; num: string; den: string }
  | { k: "sum"; cols: string[] }
  | { k: "mean"; cols: string[] };

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

const line = (label: string, c: string, scale = 1): SeriesSpec => ({
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
      return e.cols;
  }
}

/** CPU cores of a trace, in natural order (cpu_2 before cpu_10). */
export function coreColumns(names: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0, misses = 0; misses < 64 && i < 8192; i++) {
    const c = cpuColumnName(i);
    if (names.has(c)) {
      out.push(c);
      misses = 0;
    } else misses++;
  }
  return out;
}

/** GPU indices of a trace, in order. */
export function gpuIndices(names: Set<string>): number[] {
  const out: number[] = [];
  for (let i = 0; i < 256; i++) {
    if (names.has(gpuCol(i, "utilization")) || names.has(gpuCol(i, "used"))) out.push(i);
  }
  return out;
}

/** Containers of a trace: name → metric → column (names as the file spells them). */
export function containerColumns(columns: ColumnInfo[]): Map<string, Map<DockerMetric, string>> {
  const out = new Map<string, Map<DockerMetric, string>>();
  for (const c of columns) {
    const p = parseDockerColumn(c.name);
    if (!p) continue;
    let m = out.get(p.name);
    if (!m) out.set(p.name, m = new Map());
    m.set(p.metric, c.name);
  }
  return out;
}

/** The CPU busy series: sysmon's aggregate, else the mean of the cores (original files). */
function cpuSeries(names: Set<string>, label = "CPU busy"): SeriesSpec {
  if (names.has(C.cpuBusy)) return line(label, C.cpuBusy);
  return { label, expr: { k: "mean", cols: coreColumns(names) }, scale: 1 };
}

const memPct = (label = "Memory used"): SeriesSpec => ({
  label,
  expr: { k: "ratio", num: C.used, den: C.total },
  scale: 1,
});

function chart(
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

/** Columns to ask for the newest container values (containers tab, auto top N and bars). */
export function containerLatestColumns(columns: ColumnInfo[]): string[] {
  const out: string[] = [];
  for (const m of containerColumns(columns).values()) {
    for (const k of ["cpu_percent", "mem_percent"] as const) {
      const c = m.get(k);
      if (c) out.push(c);
    }
  }
  return out;
}

/** Which charts a tab shows for a trace and which queries they need. */
export function planTab(tab: TabName, state: ViewState, input: PlanInput): TabPlan {
  const names = new Set(input.columns.map((c) => c.name));
  const plan: TabPlan = { tab, blocks: [], charts: [], cards: [], bars: [], notes: [] };
  const add = (...charts: ChartSpec[]) => plan.charts.push(...charts);
  switch (tab) {
    case "overview": {
      const cpu = cpuSeries(names, "CPU");
      const mem = memPct("Memory");
      const net: SeriesSpec = {
        label: "Network",
        expr: { k: "sum", cols: [C.netRecv, C.netSent] },
        scale: 1 / MiB,
      };
      const disk: SeriesSpec = {
        label: "Disk",
        expr: { k: "sum", cols: [C.diskRead, C.diskWrite] },
        scale: 1 / MiB,
      };
      plan.cards = [
        { id: "samples", label: "Samples", unit: "", series: null },
        { id: "cpu", label: "CPU", unit: "%", series: cpu },
        { id: "mem", label: "Memory", unit: "%", series: mem },
        { id: "procs", label: "Processes", unit: "", series: line("Processes", C.procs) },
        { id: "threads", label: "Threads", unit: "", series: line("Threads", C.threads) },
        { id: "net", label: "Network (recv + sent)", unit: "MiB/s", series: net },
        { id: "disk", label: "Disk (read + write)", unit: "MiB/s", series: disk },
        { id: "events", label: "Events", unit: "", series: null, text: "0" },
      ];
      add(chart("overview-cpu-mem", "CPU and memory", "%", [cpu, mem], {
        y: [0, 100],
        wide: true,
        help: `CPU: ${columnDef(C.cpuBusy)!.help}\nMemory: sys_used / sys_total`,
      }));
      break;
    }
    case "cpu": {
      const cores = coreColumns(names);
      add(
        chart("cpu-busy", "CPU busy (all CPUs)", "%", [cpuSeries(names)], { y: [0, 100] }),
        chart("cpu-split", "CPU time split", "%", C.cpuSplit.map(([k, c]) => line(k, c)), {
          y: [0, 100],
        }),
      );
      if (cores.length > 0) {
        const points = input.points ??
          Math.max(40, Math.min(CHART_POINTS, Math.floor(HEATMAP_CELLS / cores.length)));
        add(chart(
          "cpu-cores-heatmap",
          `Per-core CPU (${cores.length} cores)`,
          "%",
          cores.map((c) => line(c.replace(/_utilization$/, ""), c)),
          {
            kind: "heatmap",
            block: 1,
            y: [0, 100],
            wide: true,
            whole: true,
            help: columnDef(cores[0]!)!.help,
          },
        ));
        plan.blocks[1] = { columns: cores, points };
        if (cores.length <= MAX_CORE_LINES) {
          add(chart(
            "cpu-cores",
            "Per-core CPU",
            "%",
            cores.map((c) => line(c.replace(/_utilization$/, ""), c)),
            { y: [0, 100], block: 1, whole: true },
          ));
        }
      } else {
        plan.notes.push("No per-core columns (cpu_<i>_utilization) in this trace.");
      }
      add(
        chart("mem-pct", "Memory used", "%", [memPct()], { y: [0, 100] }),
        chart("mem-bytes", "Memory", "GiB", [
          line("used", C.used, 1 / GiB),
          line("available", C.available, 1 / GiB),
          line("cached", C.cached, 1 / GiB),
          line("buffers", C.buffers, 1 / GiB),
          line("dirty", C.dirty, 1 / GiB),
          line("total", C.total, 1 / GiB),
        ]),
        chart("swap", "Swap used", "GiB", [
          line("used", C.swapUsed, 1 / GiB),
          line("total", C.swapTotal, 1 / GiB),
        ]),
        chart("swap-io", "Swap in / out", "MiB/s", [
          line("in", C.swapIn, 1 / MiB),
          line("out", C.swapOut, 1 / MiB),
        ]),
        chart("load", "Load average", "", C.load.map(([k, c]) => line(k, c))),
        chart("psi", "Pressure stall (PSI avg10)", "%", C.psi.map(([k, c]) => line(k, c))),
        chart("open-files", "Open files", "", [
          line("all processes", C.openFiles),
          line("busiest process", C.maxFiles),
        ]),
        chart("fd", "File handles used", "%", [line("fd used", C.fdPct)]),
        chart("processes", "Processes", "", [
          line("processes", C.procs),
          line("running", C.running),
          line("blocked", C.blocked),
        ]),
        chart("threads", "Threads", "", [line("threads", C.threads)]),
        chart("sched", "Context switches and interrupts", "/s", [
          line("context switches", C.ctx),
          line("interrupts", C.irqs),
        ]),
      );
      break;
    }
    case "io": {
      add(
        chart("net", "Network", "MiB/s", [
          line("down (recv)", C.netRecv, 1 / MiB),
          line("up (sent)", C.netSent, 1 / MiB),
        ]),
        chart("disk", "Disk throughput", "MiB/s", [
          line("read", C.diskRead, 1 / MiB),
          line("write", C.diskWrite, 1 / MiB),
        ]),
        chart("iops", "Disk operations", "/s", [
          line("reads", C.iopsRead),
          line("writes", C.iopsWrite),
        ]),
        chart("disk-util", "Disk busy (busiest disk)", "%", [line("busy", C.diskUtil)], {
          y: [0, 100],
        }),
        chart("packets", "Network packets", "/s", [
          line("recv", C.pktRecv),
          line("sent", C.pktSent),
        ]),
        chart("net-errors", "Network errors and drops", "/s", C.netErr.map(([k, c]) => line(k, c))),
      );
      break;
    }
    case "gpu": {
      const gpus = gpuIndices(names);
      if (gpus.length === 0) {
        plan.notes.push(
          "No GPU columns (gpu_<i>_*) in this trace: it was recorded without an NVIDIA GPU, " +
            "with --no-gpu, or without nvidia-smi.",
        );
        break;
      }
      add(
        chart(
          "gpu-util",
          "GPU utilisation",
          "%",
          gpus.map((i) => line(`GPU ${i}`, gpuCol(i, "utilization"))),
          { y: [0, 100] },
        ),
        chart(
          "gpu-mem",
          "GPU memory used",
          "%",
          gpus.map((i) => ({
            label: `GPU ${i}`,
            expr: { k: "ratio", num: gpuCol(i, "used"), den: gpuCol(i, "total") },
            scale: 1,
          })),
          { y: [0, 100], help: "gpu_<i>_used / gpu_<i>_total" },
        ),
        chart(
          "gpu-mem-bytes",
          "GPU memory",
          "GiB",
          gpus.map((i) => line(`GPU ${i} used`, gpuCol(i, "used"), 1 / GiB)),
        ),
        chart(
          "gpu-temp",
          "GPU temperature",
          "°C",
          gpus.map((i) => line(`GPU ${i}`, gpuCol(i, "temp"))),
        ),
        chart(
          "gpu-power",
          "GPU power",
          "W",
          gpus.map((i) => line(`GPU ${i}`, gpuCol(i, "power_w"))),
        ),
      );
      break;
    }
    case "containers": {
      const all = containerColumns(input.columns);
      const names = [...all.keys()].sort((a, b) => a.localeCompare(b));
      if (names.length === 0) {
        plan.notes.push(
          "No container columns (docker_<name>_<metric>) in this trace: it was recorded " +
            "without Docker, or with --no-docker.",
        );
        plan.containers = { all: [], shown: [], auto: true };
        break;
      }
      const latest = input.latest ?? new Map<string, number | null>();
      const latestOf = (name: string, m: DockerMetric) => {
        const c = all.get(name)?.get(m);
        return c === undefined ? null : latest.get(c) ?? null;
      };
      const picked = state.containers.filter((n) => all.has(n));
      const auto = picked.length === 0;
      const byCpu = [...names].sort((a, b) =>
        (latestOf(b, "cpu_percent") ?? -1) - (latestOf(a, "cpu_percent") ?? -1)
      );
      const shown = auto ? byCpu.slice(0, state.top) : picked;
      plan.containers = { all: names, shown, auto };
      if (state.containers.length > picked.length) {
        plan.notes.push(
          `Not in this trace: ${state.containers.filter((n) => !all.has(n)).join(", ")}.`,
        );
      }
      const per = (m: DockerMetric, scale = 1) =>
        shown.flatMap((n) => {
          const c = all.get(n)?.get(m);
          return c ? [line(n, c, scale)] : [];
        });
      const sum = (label: string, m: DockerMetric): SeriesSpec[] => {
        const cols = shown.flatMap((n) => all.get(n)?.get(m) ?? []);
        return cols.length ? [{ label, expr: { k: "sum", cols }, scale: 1 / MiB }] : [];
      };
      add(
        chart("ct-cpu", "Container CPU", "%", per("cpu_percent"), {
          help: "docker stats CPU %: 100 = one CPU busy",
        }),
        chart("ct-mem", "Container memory", "%", per("mem_percent"), { help: "used / limit" }),
        chart("ct-files", "Container open files", "", per("open_files"), {
          help: "open files of each container's init process",
        }),
        chart("ct-net", "Container network (summed)", "MiB/s", [
          ...sum("RX", "net_rx_bytes_per_sec"),
          ...sum("TX", "net_tx_bytes_per_sec"),
        ], { help: "net_rx/net_tx bytes per second, summed over the containers shown" }),
        chart("ct-disk", "Container disk (summed)", "MiB/s", [
          ...sum("read", "blkio_read_bytes_per_sec"),
          ...sum("write", "blkio_write_bytes_per_sec"),
        ], { help: "block I/O bytes per second, summed over the containers shown" }),
      );
      for (const [m, title] of [["cpu_percent", "CPU"], ["mem_percent", "Mem"]] as const) {
        const rows = shown.map((n) => [n, latestOf(n, m)] as const)
          .sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1));
        plan.bars.push({
          id: `ct-top-${m === "cpu_percent" ? "cpu" : "mem"}`,
          title: `Top containers (latest sample): ${title}`,
          unit: "%",
          labels: rows.map((r) => r[0]),
          values: rows.map((r) => r[1]),
        });
      }
      break;
    }
  }
  // Block 0: every column the charts and cards of block 0 read, that the file has.
  const want = new Set<string>();
  for (const c of plan.charts) {
    if (c.block === 0) {
      for (const s of c.series) exprColumns(s.expr).forEach((x) => want.add(x));
    }
  }
  for (const card of plan.cards) {
    card.series && exprColumns(card.series.expr).forEach((x) => want.add(x));
  }
  // Block 0 is drawn full width on the Overview, half width elsewhere.
  const wide = plan.charts.some((c) => c.block === 0 && c.wide);
  plan.blocks[0] = {
    columns: [...want].filter((c) => names.has(c)),
    points: input.points ?? (wide ? CHART_POINTS : HALF_CHART_POINTS),
  };
  return plan;
}

// ---- models: what the views render

export interface SeriesModel {
  label: string;
  /** Index into the block's series arrays. */
  i: number;
}

export interface ChartModel {
  id: string;
  title: string;
  unit: string;
  help: string;
  kind: "line" | "heatmap" | "bars";
  block: number;
  series: SeriesModel[];
  y?: [number, number];
  wide?: boolean;
  /** Set when the chart is hidden: why (the trace lacks its columns). */
  hidden?: string;
  /** Every value in the window is null. */
  empty?: boolean;
  /** Bar charts: labels and values. */
  bars?: { labels: string[]; values: (number | null)[] };
}

export interface CardModel {
  id: string;
  label: string;
  unit: string;
  /** Newest value in the window, formatted; "—" when none. */
  value: string;
  /** Sparkline: series index in block 0, or null. */
  spark: number | null;
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
        const x = a[i], y = b[i];
        out[i] = x == null || y == null || y === 0 ? null : (x / y) * 100 * scale;
      }
      return out;
    }
    case "sum":
    case "mean": {
      const arrays = e.cols.map(get).filter((a) => a !== undefined);
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
function block(r: SeriesResult) {
  const dt = new Array<number>(Math.max(0, r.t.length - 1));
  for (let i = 1; i < r.t.length; i++) dt[i - 1] = Math.round(r.t[i]! - r.t[i - 1]!);
  const b: DataBlock = {
    t0: Math.round(r.t[0] ?? r.start),
    dt,
    s: [],
    rows: r.rows,
    reduced: r.reduced,
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

/** Turns a plan and the answers to its queries into what the views render. */
export function buildTab(plan: TabPlan, results: SeriesResult[], meta: TraceMeta): TabModel {
  const names = new Set(meta.columns.map((c) => c.name));
  const blocks = results.map((r) => block(r));
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
