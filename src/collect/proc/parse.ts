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
  /** Boot time, epoch seconds (`btime`). */
  bootTime: number | null;
  /** Forks since boot (`processes`). */
  forks: number | null;
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
    bootTime: null,
    forks: null,
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
    else if (key === "btime") out.bootTime = num(f[1]);
    else if (key === "processes") out.forks = num(f[1]);
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
  return new Map(meminfoEntries(text).map((e) => [e.name, e.value]));
}

/** /proc/meminfo as the kernel names its fields: `kB` fields in bytes (`bytes` true), counts as they are. */
export function meminfoEntries(text: string): { name: string; value: number; bytes: boolean }[] {
  const out: { name: string; value: number; bytes: boolean }[] = [];
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?/.exec(line);
    if (m) out.push({ name: m[1]!, value: Number(m[2]) * (m[3] ? 1024 : 1), bytes: !!m[3] });
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
  /** Total stall time since boot, microseconds (`total=`); null without the line. */
  someTotalUs: number | null;
  fullTotalUs: number | null;
}

/** /proc/pressure/{cpu,memory,io}. */
export function parsePressure(text: string): Pressure {
  const out: Pressure = { some: null, full: null, someTotalUs: null, fullTotalUs: null };
  for (const line of text.split("\n")) {
    const m = /^(some|full)\s.*?avg10=([\d.]+)/.exec(line);
    if (!m) continue;
    const kind = m[1] as "some" | "full";
    out[kind] = Number(m[2]);
    const total = /\stotal=(\d+)/.exec(line);
    out[kind === "some" ? "someTotalUs" : "fullTotalUs"] = total ? Number(total[1]) : null;
  }
  return out;
}

export interface DiskCounters {
  name: string;
  reads: number;
  readsMerged: number;
  readBytes: number;
  /** Milliseconds spent reading. */
  readMs: number;
  writes: number;
  writesMerged: number;
  writeBytes: number;
  writeMs: number;
  /** I/Os in progress now. */
  inProgress: number;
  /** Milliseconds spent doing I/O (io_ticks). */
  busyMs: number;
  /** Weighted milliseconds doing I/O (time_in_queue). */
  weightedMs: number;
  /** Discards (kernel 4.18+) and flushes (5.5+): null on kernels without the fields. */
  discards: number | null;
  discardsMerged: number | null;
  discardedSectors: number | null;
  discardMs: number | null;
  flushes: number | null;
  flushMs: number | null;
}

/** /proc/diskstats (Documentation/admin-guide/iostats.rst); sectors are always 512 bytes there. */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = (i: number) => Number(f[i]);
    const opt = (i: number) => (i < f.length ? Number(f[i]) : null);
    out.push({
      name: f[2]!,
      reads: n(3),
      readsMerged: n(4),
      readBytes: n(5) * 512,
      readMs: n(6),
      writes: n(7),
      writesMerged: n(8),
      writeBytes: n(9) * 512,
      writeMs: n(10),
      inProgress: n(11),
      busyMs: n(12),
      weightedMs: n(13),
      discards: opt(14),
      discardsMerged: opt(15),
      discardedSectors: opt(16),
      discardMs: opt(17),
      flushes: opt(18),
      flushMs: opt(19),
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
  rxFifo: number;
  rxFrame: number;
  rxCompressed: number;
  rxMulticast: number;
  txBytes: number;
  txPackets: number;
  txErrs: number;
  txDrop: number;
  txFifo: number;
  txColls: number;
  txCarrier: number;
  txCompressed: number;
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
      rxFifo: f[4]!,
      rxFrame: f[5]!,
      rxCompressed: f[6]!,
      rxMulticast: f[7]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrs: f[10]!,
      txDrop: f[11]!,
      txFifo: f[12]!,
      txColls: f[13]!,
      txCarrier: f[14]!,
      txCompressed: f[15]!,
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
  // Only fields 3..24 are used: a split that stops there does half the work (per process,
  // per sample). Number() ignores the trailing newline of a short line.
  const f = text.slice(close + 2).split(" ", 22);
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

export interface ProcIo {
  /** Bytes this process caused to be fetched from storage (read_bytes). */
  readBytes: number;
  /** Bytes this process caused to be sent to storage (write_bytes). */
  writeBytes: number;
}

/** /proc/PID/io: storage I/O counters (not rchar/wchar, which count cached reads too). */
export function parseProcIo(text: string): ProcIo | null {
  const read = /^read_bytes:\s*(\d+)/m.exec(text);
  const write = /^write_bytes:\s*(\d+)/m.exec(text);
  if (!read || !write) return null;
  return { readBytes: Number(read[1]), writeBytes: Number(write[1]) };
}

/** The real uid of /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs"). */
export function parseStatusUid(text: string): number | null {
  const m = /^Uid:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * NSpid of /proc/PID/status: the process id in each PID namespace it belongs to, from the
 * namespace of the /proc mount outward to its own; null on kernels before 4.1 (no such line).
 */
export function parseStatusNsPids(text: string): number[] | null {
  const m = /^NSpid:[ \t]*(.*)$/m.exec(text);
  if (!m) return null;
  const pids = m[1]!.trim().split(/\s+/).map(Number);
  return pids.length > 0 && pids.every((p) => Number.isInteger(p) && p > 0) ? pids : null;
}

/**
 * /proc/PID/cmdline: NUL-separated arguments, joined by spaces; null when empty (a kernel
 * thread or a zombie). A process that rewrote its arguments (setproctitle) keeps its text.
 */
export function parseCmdline(text: string): string | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  if (end === 0) return null;
  return text.slice(0, end).replaceAll("\0", " ");
}

/**
 * The container a process runs in, from /proc/PID/cgroup: the 64-hex id of the innermost
 * container named by the path (cgroup v1 and v2): Docker's systemd driver
 * (`docker-<id>.scope`) and cgroupfs driver (`/docker/<id>`), podman (`libpod-<id>`, not its
 * `libpod-conmon-<id>` monitor), containerd's CRI (`cri-containerd-<id>.scope`), CRI-O
 * (`crio-<id>.scope`) and kubelet's cgroupfs driver (`/kubepods/.../<id>`). Null otherwise.
 */
export function containerIdFromCgroup(text: string): string | null {
  let found: string | null = null;
  for (const line of text.split("\n")) {
    const path = line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
    let id: string | null = null;
    for (const m of path.matchAll(CONTAINER_IN_PATH)) id = m[1]!;
    if (id === null && path.includes("/kubepods")) id = KUBEPODS_LEAF.exec(path)?.[1] ?? null;
    if (id === null) continue;
    // cgroup v2 (the "0::" line) is authoritative where v1 controllers disagree.
    if (line.startsWith("0::")) return id;
    found ??= id;
  }
  return found;
}

const CONTAINER_IN_PATH =
  /(?:docker-|\/docker\/|libpod-(?!conmon-)|cri-containerd-|crio-(?!conmon-))([0-9a-f]{64})(?![0-9a-f])/g;
const KUBEPODS_LEAF = /\/([0-9a-f]{64})$/;

/** /etc/passwd: user id → name (the first name listed for an id wins). */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3 || f[0] === "") continue;
    const uid = Number(f[2]);
    if (Number.isInteger(uid) && uid >= 0 && !out.has(uid)) out.set(uid, f[0]!);
  }
  return out;
}

function num(s: string | undefined): number | null {
  if (s === undefined || s === "") return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
