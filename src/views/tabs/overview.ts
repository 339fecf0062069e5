// Overview: headline cards and one wide CPU and memory chart.
import { columnDef } from "../../schema/columns.ts";
import { MEMORY_PERCENT } from "../../schema/derived.ts";
import {
  chart,
  cpuSeries,
  line,
  memPct,
  MiB,
  type SeriesSpec,
  type TabInput,
} from "../chart_spec.ts";
import { C } from "./columns.ts";

export function planOverview({ plan, names }: TabInput): void {
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
  const memHelp = `${MEMORY_PERCENT.num} / ${MEMORY_PERCENT.den}`;
  plan.charts.push(chart("overview-cpu-mem", "CPU and memory", "%", [cpu, mem], {
    y: [0, 100],
    wide: true,
    help: `CPU: ${columnDef(C.cpuBusy)!.help}\nMemory: ${memHelp}`,
  }));
}
