// CPU & Memory: CPU busy and split, per-core heatmap and lines, memory, swap, load, files,
// processes and scheduling.
import { columnDef, cpuCoreColumns, cpuCoreLabel } from "../../schema/columns.ts";
import {
  chart,
  CHART_POINTS,
  type ChartSpec,
  cpuSeries,
  GiB,
  HEATMAP_CELLS,
  line,
  MAX_CORE_LINES,
  memPct,
  MiB,
  type TabInput,
} from "../chart_spec.ts";
import { C } from "./columns.ts";

export function planCpu({ plan, names, input }: TabInput): void {
  plan.charts.push(
    chart("cpu-busy", "CPU busy (all CPUs)", "%", [cpuSeries(names)], { y: [0, 100] }),
    chart("cpu-split", "CPU time split", "%", C.cpuSplit.map(([k, c]) => line(k, c)), {
      y: [0, 100],
    }),
  );
  planCores({ plan, names, input });
  plan.charts.push(...memoryCharts(), ...systemCharts());
}

/** Per-core heatmap (block 1), and per-core lines for a few cores. */
function planCores({ plan, names, input }: Pick<TabInput, "plan" | "names" | "input">): void {
  const cores = cpuCoreColumns(names);
  if (cores.length === 0) {
    plan.notes.push("No per-core columns (cpu_<i>_utilization) in this trace.");
    return;
  }
  const points = input.points ??
    Math.max(40, Math.min(CHART_POINTS, Math.floor(HEATMAP_CELLS / cores.length)));
  const lines = () => cores.map((c) => line(cpuCoreLabel(c), c));
  plan.charts.push(
    chart("cpu-cores-heatmap", `Per-core CPU (${cores.length} cores)`, "%", lines(), {
      kind: "heatmap",
      block: 1,
      y: [0, 100],
      wide: true,
      whole: true,
      help: columnDef(cores[0]!)!.help,
    }),
  );
  plan.blocks[1] = { columns: cores, points };
  if (cores.length <= MAX_CORE_LINES) {
    plan.charts.push(
      chart("cpu-cores", "Per-core CPU", "%", lines(), { y: [0, 100], block: 1, whole: true }),
    );
  }
}

function memoryCharts(): ChartSpec[] {
  return [
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
  ];
}

function systemCharts(): ChartSpec[] {
  return [
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
  ];
}
