// I/O & Network: host network and disk rates.
import { chart, line, MiB, type TabInput } from "../chart_spec.ts";
import { C } from "./columns.ts";

export function planIo({ plan }: TabInput): void {
  plan.charts.push(
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
}
