// Per-process history: at each sample, the top processes by CPU and by resident memory (the
// union of the top N of each) become the `processes` column (ProcessRecord in columns.ts).
//
// Cost, for hundreds of processes at 1 Hz: SystemSampler's walk of /proc reads each
// /proc/PID/stat once per sample (readStat), through a handle kept open between samples
// (on the kernel's procfs: opening costs twice the read), and nothing else for a process
// that does not make the list. For those that do, cmdline, status (the user) and cgroup
// (the container) are read once per process (pid + start time + name: an exec renames it)
// and cached; io is read once per sample.
import type { ProcessRecord } from "../schema/columns.ts";
import { type ProcFs, readAgain } from "./proc/fs.ts";
import {
  containerIdFromCgroup,
  parseCmdline,
  parsePasswd,
  parseProcIo,
  parseProcStat,
  parseStatusUid,
  type ProcStat,
} from "./proc/parse.ts";

export interface ProcessOptions {
  /** How many processes by CPU and how many by memory each sample keeps (0: none). */
  top: number;
  /**
   * The name of a container from its id (64 hex digits, from /proc/PID/cgroup), or null
   * when unknown. The Docker collector provides it; without one, `container` is null.
   */
  containerName?: (id: string) => string | null;
  /** GPU memory held by each process id, in bytes (nvidia-smi's compute apps). */
  gpuMemory?: () => Map<number, number>;
}

export const DEFAULT_TOP_PROCESSES = 10;

/** Longest command line kept (characters); a longer one ends with "…". */
export const CMDLINE_MAX = 256;

/** utime and stime are in USER_HZ ticks: 100 per second on every Linux ABI. */
const TICKS_PER_SECOND = 100;

/** What a process is: read once, kept while its pid, start time and name stay the same. */
interface Identity {
  comm: string;
  name: string;
  cmdline: string | null;
  user: string | null;
  containerId: string | null;
}

/** One process seen by the walk, kept between samples for its deltas. */
interface Tracked {
  pid: number;
  /** Start time (ticks since boot): a reused pid is another process. */
  start: number;
  /** utime + stime at the last sample. */
  ticks: number;
  at: number;
  /** The sample that last saw it. */
  seen: number;
  stat: ProcStat;
  rss: number;
  /** CPU percent (of one CPU) since the previous sample; null on its first. */
  cpu: number | null;
  ident: Identity | null;
  io: { read: number; write: number; sample: number; at: number } | null;
  /** /proc/PID/io cannot be read (another user's process, or no I/O accounting). */
  ioUnreadable: boolean;
}

/** The `processes` column: fed one /proc/PID/stat at a time by SystemSampler's walk. */
export class ProcessTable {
  readonly top: number;
  private readonly fs: ProcFs;
  private readonly containerName: (id: string) => string | null;
  private readonly gpuMemory: (() => Map<number, number>) | null;
  private readonly users: UserNames;
  private readonly pageSize: number;
  private readonly tracked = new Map<number, Tracked>();
  private observed: Tracked[] = [];
  private sampleNo = 0;
  private mono = 0;
  /** /proc/PID/stat handles kept open between samples, by pid (procfs only). */
  private readonly files = new Map<number, Deno.FsFile>();
  private maxFiles: number;
  private readonly buf = new Uint8Array(2048);

  constructor(fs: ProcFs, opts: ProcessOptions, now: () => number = () => performance.now()) {
    this.fs = fs;
    this.top = opts.top;
    this.containerName = opts.containerName ?? (() => null);
    this.gpuMemory = opts.gpuMemory ?? null;
    this.users = new UserNames(() => fs.etc("passwd"), now);
    this.pageSize = pageSize(fs);
    // A fixture tree is plain files (a removed process would still read): no handles.
    this.maxFiles = fs.selfPid === null ? 0 : handleBudget(fs.proc("self/limits"));
  }

  /** /proc/PID/stat handles this table holds open now (they are its own, not the load's). */
  get openFiles(): number {
    return this.files.size;
  }

  /** Reads and parses /proc/PID/stat; null when the process is gone. */
  readStat(pid: number): ProcStat | null {
    const kept = this.files.get(pid);
    if (kept !== undefined) {
      const text = readAgain(kept, this.buf);
      if (text !== null) return parseProcStat(text);
      // Gone (or its pid is someone else's now): read by path below.
      kept.close();
      this.files.delete(pid);
    }
    if (this.files.size < this.maxFiles) {
      let file: Deno.FsFile | null = null;
      try {
        file = this.fs.openProc(`${pid}/stat`);
      } catch (err) {
        if (!(err instanceof Error && /EMFILE|Too many open files/.test(err.message))) throw err;
        this.maxFiles = this.files.size; // out of descriptors: read by path from now on
      }
      if (file !== null) {
        const text = readAgain(file, this.buf);
        if (text !== null) {
          this.files.set(pid, file);
          return parseProcStat(text);
        }
        file.close();
      }
    }
    return parseProcStat(this.fs.proc(`${pid}/stat`) ?? "");
  }

  /** Closes the kept handles. */
  close() {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }

  /** Starts a sample taken at monotonic time `mono` (ms). */
  begin(mono: number) {
    this.sampleNo++;
    this.mono = mono;
    this.observed = [];
  }

  /** One process of this sample's walk. */
  observe(st: ProcStat) {
    const ticks = st.utime + st.stime;
    let t = this.tracked.get(st.pid);
    if (t === undefined || t.start !== st.starttime) {
      t = {
        pid: st.pid,
        start: st.starttime,
        ticks,
        at: this.mono,
        seen: 0,
        stat: st,
        rss: 0,
        cpu: null,
        ident: null,
        io: null,
        ioUnreadable: false,
      };
      this.tracked.set(st.pid, t);
    } else {
      const dt = (this.mono - t.at) / 1000;
      t.cpu = dt > 0 && ticks >= t.ticks ? ((ticks - t.ticks) / TICKS_PER_SECOND / dt) * 100 : null;
    }
    t.ticks = ticks;
    t.at = this.mono;
    t.seen = this.sampleNo;
    t.stat = st;
    t.rss = st.rssPages * this.pageSize;
    this.observed.push(t);
  }

  /** Ends the sample: the top processes by CPU and by memory, busiest first. */
  finish(): ProcessRecord[] {
    if (this.tracked.size > this.observed.length) {
      for (const [pid, t] of this.tracked) if (t.seen !== this.sampleNo) this.tracked.delete(pid);
    }
    if (this.files.size > this.tracked.size) {
      for (const [pid, f] of this.files) {
        if (this.tracked.has(pid)) continue;
        f.close();
        this.files.delete(pid);
      }
    }
    const chosen = new Set([
      ...topN(this.observed, this.top, (t) => t.cpu ?? -1),
      ...topN(this.observed, this.top, (t) => t.rss),
    ]);
    const list = [...chosen].sort(busiestFirst);
    const gpu = list.length > 0 && this.gpuMemory ? this.gpuMemory() : null;
    return list.map((t) => this.record(t, gpu));
  }

  private record(t: Tracked, gpu: Map<number, number> | null): ProcessRecord {
    const id = this.identity(t);
    const [read, write] = this.ioRates(t);
    return {
      pid: t.pid,
      ppid: t.stat.ppid,
      name: id.name,
      cmdline: id.cmdline,
      user: id.user,
      cpu_percent: t.cpu,
      rss_bytes: t.rss,
      threads: t.stat.numThreads,
      read_bytes_per_sec: read,
      write_bytes_per_sec: write,
      container: id.containerId === null ? null : this.containerName(id.containerId),
      gpu_memory_bytes: gpu?.get(t.pid) ?? null,
    };
  }

  /** Cached per process; read again when its name changes (it called exec). */
  private identity(t: Tracked): Identity {
    const comm = t.stat.name;
    if (t.ident !== null && t.ident.comm === comm) return t.ident;
    const raw = this.fs.proc(`${t.pid}/cmdline`);
    const cmdline = raw === null ? null : parseCmdline(raw);
    const status = this.fs.proc(`${t.pid}/status`);
    const uid = status === null ? null : parseStatusUid(status);
    const cgroup = this.fs.proc(`${t.pid}/cgroup`);
    t.ident = {
      comm,
      name: fullName(comm, raw),
      cmdline: cmdline === null ? null : truncate(cmdline, CMDLINE_MAX),
      user: uid === null ? null : this.users.name(uid),
      containerId: cgroup === null ? null : containerIdFromCgroup(cgroup),
    };
    return t.ident;
  }

  /** Storage read and write rates since the previous sample; null on a process's first. */
  private ioRates(t: Tracked): [number | null, number | null] {
    if (t.ioUnreadable) return [null, null];
    const text = this.fs.proc(`${t.pid}/io`);
    const io = text === null ? null : parseProcIo(text);
    if (io === null) {
      t.ioUnreadable = true;
      return [null, null];
    }
    const prev = t.io;
    t.io = { read: io.readBytes, write: io.writeBytes, sample: this.sampleNo, at: this.mono };
    const dt = prev ? (this.mono - prev.at) / 1000 : 0;
    if (prev === null || prev.sample !== this.sampleNo - 1 || dt <= 0) return [null, null];
    const rate = (now: number, before: number) => now >= before ? (now - before) / dt : null;
    return [rate(io.readBytes, prev.read), rate(io.writeBytes, prev.write)];
  }
}

/** Higher CPU first (unknown last), then more memory, then lower pid. */
function busiestFirst(a: Tracked, b: Tracked): number {
  return (b.cpu ?? -1) - (a.cpu ?? -1) || b.rss - a.rss || a.pid - b.pid;
}

/**
 * The n processes with the highest key, ties broken by memory then pid (so that on an idle
 * machine the CPU list overlaps the memory list). One pass, no sort of the whole table.
 */
export function topN<T extends { rss: number; pid: number }>(
  items: T[],
  n: number,
  key: (t: T) => number,
): T[] {
  const top: T[] = [];
  const keys: number[] = [];
  /** Whether t (with key k) ranks above top[i]. */
  const better = (k: number, t: T, i: number) => {
    const o = top[i]!;
    const ko = keys[i]!;
    return k !== ko ? k > ko : t.rss !== o.rss ? t.rss > o.rss : t.pid < o.pid;
  };
  if (n <= 0) return top;
  for (const t of items) {
    const k = key(t);
    let i = top.length;
    if (i === n) {
      if (!better(k, t, n - 1)) continue;
      i = n - 1;
    } else {
      top.push(t);
      keys.push(k);
    }
    while (i > 0 && better(k, t, i - 1)) {
      top[i] = top[i - 1]!;
      keys[i] = keys[i - 1]!;
      i--;
    }
    top[i] = t;
    keys[i] = k;
  }
  return top;
}

/**
 * The process name: comm (at most 15 bytes), completed from argv[0] when comm was cut
 * short and argv[0]'s base name starts with it (as psutil does).
 */
export function fullName(comm: string, rawCmdline: string | null): string {
  if (rawCmdline === null || new TextEncoder().encode(comm).length < 15) return comm;
  const nul = rawCmdline.indexOf("\0");
  const argv0 = nul < 0 ? rawCmdline : rawCmdline.slice(0, nul);
  const base = argv0.slice(argv0.lastIndexOf("/") + 1);
  return base.startsWith(comm) ? base : comm;
}

/** At most `max` characters; a cut text ends with "…" (never half a surrogate pair). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + "…";
}

/** User names by uid from /etc/passwd, read once (again at most once a minute on a miss). */
export class UserNames {
  private names: Map<number, string> | null = null;
  private loadedAt = -Infinity;
  private readonly read: () => string | null;
  private readonly now: () => number;

  constructor(read: () => string | null, now: () => number) {
    this.read = read;
    this.now = now;
  }

  /** The user's name, or the uid as text when /etc/passwd does not list it (LDAP, NSS). */
  name(uid: number): string {
    if (this.names === null) this.load();
    let name = this.names!.get(uid);
    if (name === undefined && this.now() - this.loadedAt > 60_000) {
      this.load();
      name = this.names!.get(uid);
    }
    return name ?? String(uid);
  }

  private load() {
    this.names = parsePasswd(this.read() ?? "");
    this.loadedAt = this.now();
  }
}

/**
 * How many /proc/PID/stat handles to keep: a quarter of the soft limit on open files
 * (/proc/self/limits), at most 8192; 256 when the limit cannot be read.
 */
export function handleBudget(limits: string | null): number {
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits ?? "")?.[1]);
  return Number.isInteger(soft) && soft > 0 ? Math.min(8192, Math.floor(soft / 4)) : 256;
}

/**
 * The kernel's page size, for /proc/PID/stat's rss (in pages): KernelPageSize of the first
 * mapping in /proc/self/smaps (4 KiB on x86_64, 4, 16 or 64 KiB on arm64); 4 KiB when it
 * cannot be read (a fixture tree).
 */
export function pageSize(fs: ProcFs): number {
  const head = fs.procHead("self/smaps", 4096) ?? "";
  const kb = Number(/^KernelPageSize:\s+(\d+) kB/m.exec(head)?.[1]);
  return Number.isInteger(kb) && kb > 0 ? kb * 1024 : 4096;
}
