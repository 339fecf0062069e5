// Pure parsers for the kernel's text files (see proc(5)); no I/O here.

/** Jiffies of one `cpu` line of /proc/stat. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

export interface KernelStat {
  total: CpuTimes | null;
  /** Online CPUs by their index; an offline CPU has no line. */
  cpus: Map<number, CpuTimes>;
  contextSwitches: number | null;
  interrupts: number | null;
  procsRunning: number | null;
  procsBlocked: number | null;
}

/** /proc/stat: CPU times, context switches, interrupts, run queue. */
export function parseStat(text: string): KernelStat {
  const out: KernelStat = {
    total: null,
    cpus: new Map(),
    contextSwitches: null,
    interrupts: null,
    procsRunning: null,
    procsBlocked: null,
  };
  for (const line of text.split("\n")) {
    const f = line.split(/\s+/);
    const key = f[0] ?? "";
    if (key.startsWith("cpu")) {
      const times = cpuTimes(f);
      if (!times) continue;
      if (key === "cpu") out.total = times;
      else {
        const idx = Number(key.slice(3));
        if (Number.isInteger(idx)) out.cpus.set(idx, times);
      }
    } else if (key === "ctxt") out.contextSwitches = num(f[1]);
    else if (key === "intr") out.interrupts = num(f[1]);
    else if (key === "procs_running") out.procsRunning = num(f[1]);
    else if (key === "procs_blocked") out.procsBlocked = num(f[1]);
  }
  return out;
}

function cpuTimes(f: string[]): CpuTimes | null {
  const v = f.slice(1, 11).map((s) => Number(s));
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  const at = (i: number) => v[i] ?? 0;
  return {
    user: at(0),
    nice: at(1),
    system: at(2),
    idle: at(3),
    iowait: at(4),
    irq: at(5),
    softirq: at(6),
    steal: at(7),
    guest: at(8),
    guestNice: at(9),
  };
}

/** /proc/meminfo, values in bytes keyed by field name. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  running: number;
  /** Scheduling entities (threads) in the whole system. */
  threads: number;
}

/** /proc/loadavg: "0.03 0.08 0.03 1/77 2254". */
export function parseLoadavg(text: string): LoadAvg | null {
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\/(\d+)/.exec(text.trim());
  if (!m) return null;
  const v = m.slice(1).map(Number);
  if (v.some((x) => !Number.isFinite(x))) return null;
  return { load1: v[0]!, load5: v[1]!, load15: v[2]!, running: v[3]!, threads: v[4]! };
}

/** One field of /proc/vmstat, found without splitting the whole file. */
export function vmstatField(text: string, name: string): number | null {
  const at = text.startsWith(name + " ") ? 0 : text.indexOf("\n" + name + " ") + 1;
  if (at === 0 && !text.startsWith(name + " ")) return null;
  const end = text.indexOf("\n", at);
  return num(text.slice(at + name.length + 1, end < 0 ? undefined : end).trim());
}

export interface Pressure {
  /** avg10 percentages; `full` is null where the kernel has no such line (cpu before 5.13). */
  some: number | null;
  full: number | null;
}

/** /proc/pressure/{cpu,memory,io}. */
export function parsePressure(text: string): Pressure {
  const out: Pressure = { some: null, full: null };
  for (const line of text.split("\n")) {
    const m = /^(some|full)\s.*?avg10=([\d.]+)/.exec(line);
    if (m) out[m[1] as "some" | "full"] = Number(m[2]);
  }
  return out;
}

export interface DiskCounters {
  name: string;
  reads: number;
  readBytes: number;
  writes: number;
  writeBytes: number;
  /** Milliseconds spent doing I/O (io_ticks). */
  busyMs: number;
}

/** /proc/diskstats; sectors are always 512 bytes there, whatever the device. */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = (i: number) => Number(f[i]);
    out.push({
      name: f[2]!,
      reads: n(3),
      readBytes: n(5) * 512,
      writes: n(7),
      writeBytes: n(9) * 512,
      busyMs: n(12),
    });
  }
  return out;
}

export interface NetCounters {
  iface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrs: number;
  rxDrop: number;
  txBytes: number;
  txPackets: number;
  txErrs: number;
  txDrop: number;
}

/** /proc/net/dev: two header lines, then "iface: 16 counters". */
export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.includes("|")) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out.push({
      iface: line.slice(0, colon).trim(),
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrs: f[2]!,
      rxDrop: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrs: f[10]!,
      txDrop: f[11]!,
    });
  }
  return out;
}

/** First field of /proc/sys/fs/file-nr: allocated file handles. */
export function parseFileNr(text: string): number | null {
  return num(text.trim().split(/\s+/)[0]);
}

export interface ProcStat {
  pid: number;
  name: string;
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  numThreads: number;
  starttime: number;
  rssPages: number;
}

/**
 * /proc/PID/stat. The name is the text between the first "(" and the last ")":
 * it may itself hold spaces and parentheses.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).trim().split(" ");
  // f[0] is field 3 (state) of proc(5).
  const at = (field: number) => Number(f[field - 3]);
  if (!Number.isInteger(pid) || f.length < 22) return null;
  return {
    pid,
    name: text.slice(open + 1, close),
    state: f[0]!,
    ppid: at(4),
    utime: at(14),
    stime: at(15),
    numThreads: at(20),
    starttime: at(22),
    rssPages: at(24),
  };
}

function num(s: string | undefined): number | null {
  if (s === undefined || s === "") return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
