// The host columns the tabs read, checked against src/schema/columns.ts when loaded.
import { psiColumnName, rateName } from "../../schema/columns.ts";
import { col } from "../chart_spec.ts";

export const C = {
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
  psi: (["cpu", "memory", "io"] as const).flatMap((r) =>
    (["some", "full"] as const).map((w) => [`${r} ${w}`, col(psiColumnName(r, w))] as const)
  ),
  ctx: col(rateName("context_switches")),
  irqs: col(rateName("interrupts")),
  netRecv: col(rateName("net_bytes_recv")),
  netSent: col(rateName("net_bytes_sent")),
  diskRead: col(rateName("disk_read_bytes")),
  diskWrite: col(rateName("disk_write_bytes")),
  diskUtil: col("disk_util_percent"),
  // Cumulative counters: the tabs chart their rates (chart_spec.ts rate()).
  netRecvTotal: col("net_bytes_recv"),
  netSentTotal: col("net_bytes_sent"),
  pktRecvTotal: col("net_packets_recv"),
  pktSentTotal: col("net_packets_sent"),
  netErrTotal: (["errin", "errout", "dropin", "dropout"] as const).map((k) =>
    [k, col(`net_${k}`)] as const
  ),
  diskReadTotal: col("disk_read_bytes"),
  diskWriteTotal: col("disk_write_bytes"),
  diskReadOps: col("disk_read_count"),
  diskWriteOps: col("disk_write_count"),
  diskBusyTime: col("disk_busy_time"),
};
