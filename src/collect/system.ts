// One sample of the whole machine from /proc and /sys: the columns of columns.ts.
import { COUNTERS, cpuColumnName, rateName, type Row } from "../schema/columns.ts";
import { percentOf } from "../schema/derived.ts";
import { ProcFs } from "./proc/fs.ts";
import { type ProcessOptions, ProcessTable } from "./processes.ts";
import {
  type CpuTimes,
  type KernelStat,
  type LoadAvg,
  parseDiskstats,
  parseFileNr,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parsePressure,
  parseProcStat,
  parseStat,
  type Pressure,
  type ProcStat,
  vmstatField,
} from "./proc/parse.ts";

export interface Clock {
  /** Wall time, epoch milliseconds (fractional). */
  wallMs(): number;
  /** Monotonic milliseconds, for rates. */
  monoMs(): number;
}

export const systemClock: Clock = {
  wallMs: () => performance.timeOrigin + performance.now(),
  monoMs: () => performance.now(),
};

/** Naive wall-clock microseconds: local time of the recording machine, or UTC. */
export function wallMicros(epochMs: number, useUtc: boolean): number {
  const offsetMin = useUtc ? 0 : new Date(epochMs).getTimezoneOffset();
  return Math.round((epochMs - offsetMin * 60_000) * 1000);
}

/**
 * What the last sample read from /proc, kept for the Prometheus exposition
 * (src/collect/node_metrics.ts): the texts the sampler read anyway (parsed only when someone
 * asks), so a scrape never reads /proc again and a sample costs nothing more.
 */
export interface HostReadings {
  /** When the sample was taken, epoch ms. */
  wallMs: number;
  stat: KernelStat;
  load: LoadAvg | null;
  pressure: Partial<Record<(typeof PRESSURE)[number], Pressure>>;
  meminfo: string | null;
  netDev: string | null;
  diskstats: string | null;
  fileNr: string | null;
  vmstat: string | null;
}

interface Previous {
  mono: number;
  stat: KernelStat;
  counters: Map<string, number>;
  diskBusy: Map<string, number>;
}

const PRESSURE = ["cpu", "memory", "io"] as const;

/** Computes rows; keeps the previous readings for rates and percentages. */
export class SystemSampler {
  readonly fs: ProcFs;
  readonly useUtc: boolean;
  readonly clock: Clock;
  /** Sources that could not be read, with why (shown once, not per sample). */
  readonly unavailable: Map<string, string> = new Map();
  private prev: Previous | null = null;
  /** The last sample's readings (null before the first). */
  latest: HostReadings | null = null;
  /** Texts and parsed files of the sample being taken, for `latest`. */
  private reading: Omit<HostReadings, "wallMs" | "stat" | "load"> = emptyReading();
  /** The `processes` column; null when per-process recording is off. */
  private readonly table: ProcessTable | null;

  constructor(
    opts: {
      fs?: ProcFs;
      useUtc?: boolean;
      clock?: Clock;
      /** Per-process recording (the `processes` column); off when absent or top is 0. */
      processes?: ProcessOptions;
    } = {},
  ) {
    this.fs = opts.fs ?? new ProcFs();
    this.useUtc = opts.useUtc ?? false;
    this.clock = opts.clock ?? systemClock;
    const p = opts.processes;
    this.table = p && p.top > 0 ? new ProcessTable(this.fs, p, () => this.clock.monoMs()) : null;
  }

  sample(): Row {
    const mono = this.clock.monoMs();
    const wallMs = this.clock.wallMs();
    const row: Row = { timestamp: wallMicros(wallMs, this.useUtc) };
    this.reading = emptyReading();
    const stat = parseStat(this.need("stat") ?? "");
    const counters = new Map<string, number>();
    const diskBusy = new Map<string, number>();

    this.memory(row);
    this.cpu(row, stat);
    this.openFiles(row);
    this.disks(counters, diskBusy);
    this.network(counters);
    const load = parseLoadavg(this.fs.proc("loadavg") ?? "");
    this.processes(row, load?.threads ?? null, mono);
    this.load(row, stat, load);
    if (stat.contextSwitches !== null) counters.set("context_switches", stat.contextSwitches);
    if (stat.interrupts !== null) counters.set("interrupts", stat.interrupts);
    this.swap(counters);
    this.pressure(row);

    const prev = this.prev;
    const dt = prev ? (mono - prev.mono) / 1000 : 0;
    for (const c of COUNTERS) {
      const v = counters.get(c.name);
      row[c.name] = v ?? null;
      const before = prev?.counters.get(c.name);
      // A counter that went backwards (reboot, wrap, device removed) has no rate.
      row[rateName(c.name)] = v !== undefined && before !== undefined && v >= before && dt > 0
        ? (v - before) / dt
        : null;
    }
    row.disk_util_percent = diskUtil(diskBusy, prev?.diskBusy, dt);
    this.prev = { mono, stat, counters, diskBusy };
    this.latest = { wallMs, stat, load, ...this.reading };
    return row;
  }

  /** Reads a /proc file the row cannot do without; notes it once when missing. */
  private need(rel: string): string | null {
    const text = this.fs.proc(rel);
    if (text === null) this.unavailable.set(rel, `${this.fs.roots.proc}/${rel} is missing`);
    return text;
  }

  private memory(row: Row) {
    const text = this.reading.meminfo = this.need("meminfo");
    const m = parseMeminfo(text ?? "");
    const get = (k: string) => m.get(k) ?? null;
    const total = get("MemTotal");
    const free = get("MemFree");
    const buffers = get("Buffers") ?? 0;
    const cached = (get("Cached") ?? 0) + (get("SReclaimable") ?? 0);
    let used = total !== null && free !== null ? total - free - buffers - cached : null;
    if (used !== null && used < 0) used = total! - free!;
    row.sys_total = total;
    row.sys_used = used;
    row.sys_free = free;
    row.mem_available_bytes = get("MemAvailable");
    row.mem_cached_bytes = total === null ? null : cached;
    row.mem_buffers_bytes = get("Buffers");
    row.mem_dirty_bytes = get("Dirty");
    const swapTotal = get("SwapTotal");
    const swapFree = get("SwapFree");
    row.swap_total_bytes = swapTotal;
    row.swap_used_bytes = swapTotal !== null && swapFree !== null ? swapTotal - swapFree : null;
  }

  private cpu(row: Row, stat: KernelStat) {
    const before = this.prev?.stat;
    for (const [i, times] of stat.cpus) {
      const old = before?.cpus.get(i);
      row[cpuColumnName(i)] = old ? busyPercent(old, times) : null;
    }
    // A CPU that went offline keeps its column, null for this row.
    if (before) {
      for (const i of before.cpus.keys()) {
        if (!stat.cpus.has(i)) row[cpuColumnName(i)] = null;
      }
    }
    const split = stat.total && before?.total ? cpuSplit(before.total, stat.total) : null;
    row.cpu_busy_percent = stat.total && before?.total
      ? busyPercent(before.total, stat.total)
      : null;
    row.cpu_user_percent = split?.user ?? null;
    row.cpu_nice_percent = split?.nice ?? null;
    row.cpu_system_percent = split?.system ?? null;
    row.cpu_iowait_percent = split?.iowait ?? null;
    row.cpu_irq_percent = split?.irq ?? null;
    row.cpu_steal_percent = split?.steal ?? null;
    row.cpu_idle_percent = split?.idle ?? null;
  }

  private openFiles(row: Row) {
    const nr = this.reading.fileNr = this.fs.proc("sys/fs/file-nr");
    const maxText = this.fs.proc("sys/fs/file-max");
    const used = nr === null ? null : parseFileNr(nr);
    const max = maxText === null ? null : Number(maxText.trim());
    row.fd_used = used;
    row.fd_max = max !== null && Number.isFinite(max) ? max : null;
    row.fd_usage_percent = percentOf(used, max);
  }

  private disks(counters: Map<string, number>, busy: Map<string, number>) {
    const text = this.reading.diskstats = this.fs.proc("diskstats");
    if (text === null) {
      this.unavailable.set("disk", "no /proc/diskstats");
      return;
    }
    // Whole devices are the entries of /sys/block; partitions would count twice.
    const whole = this.wholeDisks();
    let rb = 0, wb = 0, rc = 0, wc = 0, ms = 0;
    for (const d of parseDiskstats(text)) {
      if (whole.size > 0 && !whole.has(d.name.replaceAll("/", "!"))) continue;
      rb += d.readBytes;
      wb += d.writeBytes;
      rc += d.reads;
      wc += d.writes;
      ms += d.busyMs;
      busy.set(d.name, d.busyMs);
    }
    counters.set("disk_read_bytes", rb);
    counters.set("disk_write_bytes", wb);
    counters.set("disk_read_count", rc);
    counters.set("disk_write_count", wc);
    counters.set("disk_busy_time", ms);
  }

  /** Names in /sys/block, listed again at most once a minute (devices come and go). */
  private wholeDisks(): Set<string> {
    const now = this.clock.monoMs();
    if (!this.disksListed || now - this.disksListed.at > 60_000) {
      this.disksListed = { at: now, names: new Set(this.fs.sysDir("block")) };
    }
    return this.disksListed.names;
  }
  private disksListed: { at: number; names: Set<string> } | null = null;

  private network(counters: Map<string, number>) {
    const text = this.reading.netDev = this.fs.proc("net/dev");
    if (text === null) {
      this.unavailable.set("network", "no /proc/net/dev");
      return;
    }
    const sum = { sent: 0, recv: 0, ps: 0, pr: 0, ei: 0, eo: 0, di: 0, do: 0 };
    for (const n of parseNetDev(text)) {
      sum.sent += n.txBytes;
      sum.recv += n.rxBytes;
      sum.ps += n.txPackets;
      sum.pr += n.rxPackets;
      sum.ei += n.rxErrs;
      sum.eo += n.txErrs;
      sum.di += n.rxDrop;
      sum.do += n.txDrop;
    }
    counters.set("net_bytes_sent", sum.sent);
    counters.set("net_bytes_recv", sum.recv);
    counters.set("net_packets_sent", sum.ps);
    counters.set("net_packets_recv", sum.pr);
    counters.set("net_errin", sum.ei);
    counters.set("net_errout", sum.eo);
    counters.set("net_dropin", sum.di);
    counters.set("net_dropout", sum.do);
  }

  /**
   * Process and thread counts, and open files per process: one stat per process on
   * Linux 6.2+ (no lsof, no walk of every fd). With per-process recording on, the same walk
   * reads each /proc/PID/stat once (its thread count replaces the stat of task/).
   */
  private processes(row: Row, allThreads: number | null, mono: number) {
    const countThreads = !(this.fs.rootPidNamespace && allThreads !== null);
    const table = this.table;
    table?.begin(mono);
    let procs = 0, threads = 0, files = 0, maxCount = -1, maxPid = 0;
    let maxStat: ProcStat | null = null;
    const self = this.fs.selfPid;
    for (const pid of this.fs.pids()) {
      let fds = this.fs.fdCount(pid);
      // The table's kept /proc handles are the observer's, not the machine's load.
      if (pid === self && fds !== null && table) fds = Math.max(0, fds - table.openFiles);
      const st = table ? table.readStat(pid) : null;
      if (st !== null) {
        table!.observe(st);
        threads += st.numThreads;
      } else if (countThreads) {
        const n = this.fs.threadCount(pid);
        if (n === null) continue; // exited mid-scan
        threads += n;
      } else if (fds === null && !this.fs.exists(pid)) continue;
      procs++;
      if (fds === null) continue;
      files += fds;
      if (fds > maxCount) [maxCount, maxPid, maxStat] = [fds, pid, st];
    }
    row.system_process_count = procs;
    row.system_thread_count = countThreads ? threads : allThreads;
    row.total_open_files = files;
    row.max_files_process = maxCount < 0
      ? null
      : `${(maxStat ?? this.procStat(maxPid))?.name ?? "?"}(${maxPid})`;
    row.max_files_count = maxCount < 0 ? null : maxCount;
    if (table) row.processes = table.finish();
  }

  /** Releases what per-process recording holds open (its /proc handles). */
  close() {
    this.table?.close();
  }

  private procStat(pid: number): ProcStat | null {
    return parseProcStat(this.fs.proc(`${pid}/stat`) ?? "");
  }

  private load(row: Row, stat: KernelStat, l: LoadAvg | null) {
    row.load_1m = l?.load1 ?? null;
    row.load_5m = l?.load5 ?? null;
    row.load_15m = l?.load15 ?? null;
    row.procs_running = stat.procsRunning;
    row.procs_blocked = stat.procsBlocked;
  }

  private swap(counters: Map<string, number>) {
    const text = this.reading.vmstat = this.fs.proc("vmstat");
    if (text === null) return;
    const pin = vmstatField(text, "pswpin");
    const pout = vmstatField(text, "pswpout");
    if (pin !== null) counters.set("swap_in_bytes", pin * PAGE_SIZE);
    if (pout !== null) counters.set("swap_out_bytes", pout * PAGE_SIZE);
  }

  private pressure(row: Row) {
    for (const res of PRESSURE) {
      let text: string | null = null;
      try {
        text = this.fs.proc(`pressure/${res}`);
      } catch (err) {
        // Kernels built with PSI but booted without it answer EOPNOTSUPP.
        if (!(err instanceof Error)) throw err;
      }
      if (text === null) {
        this.unavailable.set("pressure", "no /proc/pressure (kernel without PSI)");
      }
      const p = text === null ? null : parsePressure(text);
      if (p) this.reading.pressure[res] = p;
      row[`psi_${res}_some_avg10_percent`] = p?.some ?? null;
      row[`psi_${res}_full_avg10_percent`] = p?.full ?? null;
    }
  }
}

function emptyReading(): Omit<HostReadings, "wallMs" | "stat" | "load"> {
  return { pressure: {}, meminfo: null, netDev: null, diskstats: null, fileNr: null, vmstat: null };
}

/** Page size for /proc/vmstat's page counts (4 KiB on x86_64 and most arm64 kernels). */
const PAGE_SIZE = 4096;

function totalJiffies(t: CpuTimes): number {
  // guest and guest_nice are already counted in user and nice.
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** psutil's cpu_percent: busy = total - idle - iowait. */
export function busyPercent(a: CpuTimes, b: CpuTimes): number {
  const total = totalJiffies(b) - totalJiffies(a);
  if (total <= 0) return 0;
  const idle = (b.idle - a.idle) + (b.iowait - a.iowait);
  return clampPercent(((total - idle) / total) * 100);
}

function cpuSplit(a: CpuTimes, b: CpuTimes) {
  const total = totalJiffies(b) - totalJiffies(a);
  const pct = (x: number) => total > 0 ? clampPercent((x / total) * 100) : 0;
  return {
    user: pct(b.user - b.guest - (a.user - a.guest)),
    nice: pct(b.nice - b.guestNice - (a.nice - a.guestNice)),
    system: pct(b.system - a.system),
    iowait: pct(b.iowait - a.iowait),
    irq: pct(b.irq - a.irq + b.softirq - a.softirq),
    steal: pct(b.steal - a.steal),
    idle: pct(b.idle - a.idle),
  };
}

function clampPercent(x: number): number {
  return Math.min(100, Math.max(0, x));
}

function diskUtil(now: Map<string, number>, before: Map<string, number> | undefined, dt: number) {
  if (!before || dt <= 0) return null;
  let max: number | null = null;
  for (const [name, ms] of now) {
    const old = before.get(name);
    if (old === undefined || ms < old) continue;
    const util = clampPercent(((ms - old) / (dt * 1000)) * 100);
    if (max === null || util > max) max = util;
  }
  return max;
}
