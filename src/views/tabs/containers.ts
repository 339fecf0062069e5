// Containers: the busiest (or hand-picked) containers, one line each, with sums and top bars.
import {
  dockerContainers,
  type DockerCounter,
  type DockerMetric,
} from "../../schema/docker_columns.ts";
import { chart, line, MiB, rate, type SeriesSpec, type TabInput } from "../chart_spec.ts";
import type { ColumnInfo } from "../types.ts";

/** Columns to ask for the newest container values (auto top N and bars). */
export function containerLatestColumns(columns: ColumnInfo[]): string[] {
  const out: string[] = [];
  for (const m of dockerContainers(columns.map((c) => c.name)).values()) {
    for (const k of ["cpu_percent", "mem_percent"] as const) {
      const c = m.get(k);
      if (c) out.push(c);
    }
  }
  return out;
}

export function planContainers({ plan, state, input }: TabInput): void {
  const all = dockerContainers(input.columns.map((c) => c.name));
  const names = [...all.keys()].sort((a, b) => a.localeCompare(b));
  if (names.length === 0) {
    plan.notes.push(
      "No container columns (docker_<name>_<metric>) in this trace: it was recorded " +
        "without Docker, or with --no-docker.",
    );
    plan.containers = { all: [], shown: [], auto: true };
    return;
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
  // Summed over the containers shown: their `_per_sec` columns, else (the original tool's
  // files) the rates of their counters.
  const sum = (label: string, m: DockerCounter): SeriesSpec[] => {
    const cols = shown.flatMap((n) => all.get(n)?.get(m) ?? []);
    const rates = shown.flatMap((n) => all.get(n)?.get(`${m}_per_sec`) ?? []);
    if (cols.length === 0) {
      return rates.length ? [{ label, expr: { k: "sum", cols: rates }, scale: 1 / MiB }] : [];
    }
    return [rate(label, new Set([...cols, ...rates]), cols, 1 / MiB)];
  };
  plan.charts.push(
    chart("ct-cpu", "Container CPU", "%", per("cpu_percent"), {
      help: "docker stats CPU %: 100 = one CPU busy",
    }),
    chart("ct-mem", "Container memory", "%", per("mem_percent"), { help: "used / limit" }),
    chart("ct-files", "Container open files", "", per("open_files"), {
      help: "open files of each container's init process",
    }),
    chart("ct-net", "Container network (summed)", "MiB/s", [
      ...sum("RX", "net_rx_bytes"),
      ...sum("TX", "net_tx_bytes"),
    ], { help: "net_rx/net_tx bytes per second, summed over the containers shown" }),
    chart("ct-disk", "Container disk (summed)", "MiB/s", [
      ...sum("read", "blkio_read_bytes"),
      ...sum("write", "blkio_write_bytes"),
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
}
