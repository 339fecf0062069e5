// The host's metrics under node_exporter's names, labels, types and units, from the readings
// the last sample kept (HostReadings): nothing here reads /proc. node_exporter's own help
// texts, so that dashboards and alerts made for it work unchanged (collectors cpu, meminfo,
// loadavg, pressure, netdev, diskstats, filefd, stat, vmstat, uname, time).
import type { Exposition } from "./exposition.ts";
import type { ProcFs } from "./proc/fs.ts";
import {
  type CpuTimes,
  type DiskCounters,
  meminfoEntries,
  type NetCounters,
  parseDiskstats,
  parseNetDev,
} from "./proc/parse.ts";
import type { HostReadings } from "./system.ts";

/** Jiffies per second of /proc/stat (USER_HZ: 100 on every Linux architecture). */
export const USER_HZ = 100;

/** What node_uname_info labels: uname(2)'s fields, read once at start. */
export interface Uname {
  sysname: string;
  release: string;
  version: string;
  machine: string;
  nodename: string;
  domainname: string;
}

/** uname(2)'s fields from /proc/sys/kernel (once, not per scrape); Deno's where a file lacks. */
export function readUname(fs: ProcFs): Uname {
  const k = (name: string) => fs.proc(`sys/kernel/${name}`)?.trim() || null;
  let host = "";
  try {
    host = Deno.hostname();
  } catch { /* no permission: the kernel's file, or empty */ }
  return {
    sysname: k("ostype") ?? "Linux",
    release: k("osrelease") ?? Deno.osRelease(),
    version: k("version") ?? "",
    machine: Deno.build.arch,
    nodename: k("hostname") ?? host,
    domainname: k("domainname") ?? "(none)",
  };
}

/** node_exporter's default --collector.diskstats.device-exclude: partitions, loop, ram. */
const DISK_EXCLUDE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

/** node_exporter's default --collector.vmstat.fields. */
const VMSTAT_FIELDS = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

const CPU_MODES: [keyof CpuTimes, string][] = [
  ["idle", "idle"],
  ["iowait", "iowait"],
  ["irq", "irq"],
  ["nice", "nice"],
  ["softirq", "softirq"],
  ["steal", "steal"],
  ["system", "system"],
  ["user", "user"],
];

/** Writes every node_* family the readings hold; `uname` null leaves node_uname_info out. */
export function writeNodeMetrics(w: Exposition, r: HostReadings, uname: Uname | null): void {
  const ok = new Map<string, boolean>();
  ok.set("cpu", cpu(w, r));
  ok.set("loadavg", loadavg(w, r));
  ok.set("meminfo", meminfo(w, r.meminfo));
  ok.set("netdev", netdev(w, r.netDev));
  ok.set("diskstats", diskstats(w, r.diskstats));
  ok.set("filefd", filefd(w, r.fileNr));
  ok.set("pressure", pressure(w, r));
  ok.set("stat", stat(w, r));
  ok.set("vmstat", vmstat(w, r.vmstat));
  w.family("node_time_seconds", "gauge", "System time in seconds since epoch (1970).")
    .sample(null, r.wallMs / 1000);
  ok.set("time", true);
  if (uname) {
    w.family(
      "node_uname_info",
      "gauge",
      "Labeled system information as provided by the uname system call.",
    ).sample({ ...uname }, 1);
  }
  ok.set("uname", uname !== null);
  w.family(
    "node_scrape_collector_success",
    "gauge",
    "node_exporter: Whether a collector succeeded.",
  );
  for (const [collector, success] of [...ok].sort(([a], [b]) => a.localeCompare(b))) {
    w.sample({ collector }, success ? 1 : 0);
  }
}

function cpu(w: Exposition, r: HostReadings): boolean {
  const cpus = [...r.stat.cpus].sort(([a], [b]) => a - b);
  if (cpus.length === 0) return false;
  w.family(
    "node_cpu_guest_seconds_total",
    "counter",
    "Seconds the CPUs spent in guests (VMs) for each mode.",
  );
  for (const [i, t] of cpus) {
    w.sample({ cpu: String(i), mode: "nice" }, t.guestNice / USER_HZ);
    w.sample({ cpu: String(i), mode: "user" }, t.guest / USER_HZ);
  }
  w.family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
  for (const [i, t] of cpus) {
    for (const [field, mode] of CPU_MODES) w.sample({ cpu: String(i), mode }, t[field] / USER_HZ);
  }
  return true;
}

function loadavg(w: Exposition, r: HostReadings): boolean {
  const l = r.load;
  if (!l) return false;
  w.family("node_load1", "gauge", "1m load average.").sample(null, l.load1);
  w.family("node_load15", "gauge", "15m load average.").sample(null, l.load15);
  w.family("node_load5", "gauge", "5m load average.").sample(null, l.load5);
  return true;
}

function meminfo(w: Exposition, text: string | null): boolean {
  if (text === null) return false;
  const seen = new Set<string>();
  for (const e of meminfoEntries(text)) {
    // `Active(anon)` is node_memory_Active_anon_bytes.
    const field = e.name.replace(/\((.*)\)/, "_$1") + (e.bytes ? "_bytes" : "");
    if (!/^[a-zA-Z0-9_]+$/.test(field) || seen.has(field)) continue;
    seen.add(field);
    w.family(`node_memory_${field}`, "gauge", `Memory information field ${field}.`)
      .sample(null, e.value);
  }
  return seen.size > 0;
}

const NETDEV: [keyof NetCounters, string][] = [
  ["rxBytes", "receive_bytes"],
  ["rxCompressed", "receive_compressed"],
  ["rxDrop", "receive_drop"],
  ["rxErrs", "receive_errs"],
  ["rxFifo", "receive_fifo"],
  ["rxFrame", "receive_frame"],
  ["rxMulticast", "receive_multicast"],
  ["rxPackets", "receive_packets"],
  ["txBytes", "transmit_bytes"],
  ["txCarrier", "transmit_carrier"],
  ["txColls", "transmit_colls"],
  ["txCompressed", "transmit_compressed"],
  ["txDrop", "transmit_drop"],
  ["txErrs", "transmit_errs"],
  ["txFifo", "transmit_fifo"],
  ["txPackets", "transmit_packets"],
];

function netdev(w: Exposition, text: string | null): boolean {
  if (text === null) return false;
  const devices = parseNetDev(text).sort((a, b) => a.iface.localeCompare(b.iface));
  for (const [field, stat] of NETDEV) {
    w.family(`node_network_${stat}_total`, "counter", `Network device statistic ${stat}.`);
    for (const d of devices) w.sample({ device: d.iface }, d[field] as number);
  }
  return true;
}

type DiskField = keyof Omit<DiskCounters, "name">;
const S = 1 / 1000; // ms → s

const DISKSTATS: [DiskField, string, "counter" | "gauge", string, number][] = [
  [
    "discardMs",
    "discard_time_seconds_total",
    "counter",
    "This is the total number of seconds spent by all discards.",
    S,
  ],
  [
    "discardedSectors",
    "discarded_sectors_total",
    "counter",
    "The total number of sectors discarded successfully.",
    1,
  ],
  [
    "discards",
    "discards_completed_total",
    "counter",
    "The total number of discards completed successfully.",
    1,
  ],
  ["discardsMerged", "discards_merged_total", "counter", "The total number of discards merged.", 1],
  [
    "flushMs",
    "flush_requests_time_seconds_total",
    "counter",
    "This is the total number of seconds spent by all flush requests.",
    S,
  ],
  [
    "flushes",
    "flush_requests_total",
    "counter",
    "The total number of flush requests completed successfully",
    1,
  ],
  ["inProgress", "io_now", "gauge", "The number of I/Os currently in progress.", 1],
  ["busyMs", "io_time_seconds_total", "counter", "Total seconds spent doing I/Os.", S],
  [
    "weightedMs",
    "io_time_weighted_seconds_total",
    "counter",
    "The weighted # of seconds spent doing I/Os.",
    S,
  ],
  ["readBytes", "read_bytes_total", "counter", "The total number of bytes read successfully.", 1],
  [
    "readMs",
    "read_time_seconds_total",
    "counter",
    "The total number of seconds spent by all reads.",
    S,
  ],
  [
    "reads",
    "reads_completed_total",
    "counter",
    "The total number of reads completed successfully.",
    1,
  ],
  ["readsMerged", "reads_merged_total", "counter", "The total number of reads merged.", 1],
  [
    "writeMs",
    "write_time_seconds_total",
    "counter",
    "This is the total number of seconds spent by all writes.",
    S,
  ],
  [
    "writes",
    "writes_completed_total",
    "counter",
    "The total number of writes completed successfully.",
    1,
  ],
  ["writesMerged", "writes_merged_total", "counter", "The number of writes merged.", 1],
  [
    "writeBytes",
    "written_bytes_total",
    "counter",
    "The total number of bytes written successfully.",
    1,
  ],
];

function diskstats(w: Exposition, text: string | null): boolean {
  if (text === null) return false;
  const disks = parseDiskstats(text).filter((d) => !DISK_EXCLUDE.test(d.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const [field, name, type, help, scale] of DISKSTATS) {
    w.family(`node_disk_${name}`, type, help);
    for (const d of disks) {
      const v = d[field];
      w.sample({ device: d.name }, v === null ? null : v * scale);
    }
  }
  return true;
}

function filefd(w: Exposition, text: string | null): boolean {
  const f = text?.trim().split(/\s+/).map(Number) ?? [];
  if (f.length < 3 || f.some((x) => !Number.isFinite(x))) return false;
  w.family("node_filefd_allocated", "gauge", "File descriptor statistics: allocated.")
    .sample(null, f[0]);
  w.family("node_filefd_maximum", "gauge", "File descriptor statistics: maximum.")
    .sample(null, f[2]);
  return true;
}

function pressure(w: Exposition, r: HostReadings): boolean {
  const { cpu, io, memory } = r.pressure;
  if (!cpu && !io && !memory) return false;
  // total= is in microseconds; a kernel without a `full` line for cpu (before 5.13) has none.
  const family = (name: string, help: string, us: number | null | undefined) => {
    if (us === null || us === undefined) return;
    w.family(`node_pressure_${name}`, "counter", help).sample(null, us / 1e6);
  };
  family(
    "cpu_stalled_seconds_total",
    "Total time in seconds no process could make progress due to CPU congestion",
    cpu?.fullTotalUs,
  );
  family(
    "cpu_waiting_seconds_total",
    "Total time in seconds that processes have waited for CPU time",
    cpu?.someTotalUs,
  );
  family(
    "io_stalled_seconds_total",
    "Total time in seconds no process could make progress due to IO congestion",
    io?.fullTotalUs,
  );
  family(
    "io_waiting_seconds_total",
    "Total time in seconds that processes have waited due to IO congestion",
    io?.someTotalUs,
  );
  family(
    "memory_stalled_seconds_total",
    "Total time in seconds no process could make progress due to memory congestion",
    memory?.fullTotalUs,
  );
  family(
    "memory_waiting_seconds_total",
    "Total time in seconds that processes have waited for memory",
    memory?.someTotalUs,
  );
  return true;
}

function stat(w: Exposition, r: HostReadings): boolean {
  const s = r.stat;
  w.family("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.")
    .sample(null, s.bootTime);
  w.family("node_context_switches_total", "counter", "Total number of context switches.")
    .sample(null, s.contextSwitches);
  w.family("node_forks_total", "counter", "Total number of forks.").sample(null, s.forks);
  w.family("node_intr_total", "counter", "Total number of interrupts serviced.")
    .sample(null, s.interrupts);
  w.family(
    "node_procs_blocked",
    "gauge",
    "Number of processes blocked waiting for I/O to complete.",
  )
    .sample(null, s.procsBlocked);
  w.family("node_procs_running", "gauge", "Number of processes in runnable state.")
    .sample(null, s.procsRunning);
  return s.bootTime !== null || s.contextSwitches !== null;
}

function vmstat(w: Exposition, text: string | null): boolean {
  if (text === null) return false;
  const fields: [string, number][] = [];
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp < 0) continue;
    const name = line.slice(0, sp);
    if (!VMSTAT_FIELDS.test(name) || !/^[a-z0-9_]+$/.test(name)) continue;
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v)) fields.push([name, v]);
  }
  fields.sort(([a], [b]) => a.localeCompare(b));
  for (const [name, v] of fields) {
    // node_exporter leaves these untyped (and without _total): their names are kept.
    w.family(`node_vmstat_${name}`, "untyped", `/proc/vmstat information field ${name}.`)
      .sample(null, v);
  }
  return true;
}
