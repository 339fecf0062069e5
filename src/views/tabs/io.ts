// I/O & Network: host network and disk rates. A trace without a `<counter>_per_sec` column
// (the original tool writes only the byte rates) has them computed from its counters.
import { chart, line, MiB, rate, type TabInput } from "../chart_spec.ts";
import { C } from "./columns.ts";

export function planIo({ plan, names }: TabInput): void {
  const per = (label: string, counter: string, scale = 1) => rate(label, names, [counter], scale);
  // Disk busy: sysmon's busiest disk, else the busy time all disks add up (ms per s / 10 = %).
  const summed = !names.has(C.diskUtil) &&
    (names.has(C.diskBusyTime) || names.has(`${C.diskBusyTime}_per_sec`));
  const busy = summed
    ? { title: "Disk busy (all disks summed)", series: per("busy", C.diskBusyTime, 0.1) }
    : { title: "Disk busy (busiest disk)", series: line("busy", C.diskUtil) };
  plan.charts.push(
    chart("net", "Network", "MiB/s", [
      per("down (recv)", C.netRecvTotal, 1 / MiB),
      per("up (sent)", C.netSentTotal, 1 / MiB),
    ]),
    chart("disk", "Disk throughput", "MiB/s", [
      per("read", C.diskReadTotal, 1 / MiB),
      per("write", C.diskWriteTotal, 1 / MiB),
    ]),
    chart("iops", "Disk operations", "/s", [
      per("reads", C.diskReadOps),
      per("writes", C.diskWriteOps),
    ]),
    chart("disk-util", busy.title, "%", [busy.series], {
      y: [0, 100],
      help: summed
        ? "disk_busy_time: ms spent doing I/O per second, summed over the disks (a trace " +
          "without disk_util_percent); several busy disks add up past 100 %"
        : undefined,
    }),
    chart("packets", "Network packets", "/s", [
      per("recv", C.pktRecvTotal),
      per("sent", C.pktSentTotal),
    ]),
    chart(
      "net-errors",
      "Network errors and drops",
      "/s",
      C.netErrTotal.map(([k, c]) => per(k, c)),
    ),
  );
}
