// Where the tracer reads the kernel's files: /proc and /sys roots are options,
// so tests run every collector over a recorded fixture tree.

export interface Roots {
  proc: string;
  sys: string;
  /** Where /etc/passwd is read (user names); default: `etc` beside the /proc root. */
  etc?: string;
}

export const hostRoots: Roots = { proc: "/proc", sys: "/sys" };

/** What reading a process's file gave: its text, or why there is none. */
export type ProcRead = { text: string } | { missing: "gone" | "denied" };

/** Reads files under a /proc and /sys root; a missing file reads as null. */
export class ProcFs {
  readonly roots: Roots;
  /** True when /proc/PID/fd reports its open-fd count as st_size (Linux 6.2+ procfs). */
  readonly fdCountFromStat: boolean;

  /**
   * True when this process sees the root PID namespace: then /proc/loadavg's thread
   * total is the sum over visible processes, and no per-process read is needed.
   */
  readonly rootPidNamespace: boolean;

  /**
   * This process's id under the /proc root (the `self` link), or null where there is
   * none: a fixture tree is a plain directory, not the kernel's procfs.
   */
  readonly selfPid: number | null;

  constructor(roots: Roots = hostRoots) {
    this.roots = roots;
    this.fdCountFromStat = detectFdCountFromStat(roots.proc);
    const nspid = /^NSpid:\s*(.*)$/m.exec(readOrNull(`${roots.proc}/self/status`) ?? "");
    this.rootPidNamespace = nspid !== null && nspid[1]!.trim().split(/\s+/).length === 1;
    this.selfPid = readSelfLink(roots.proc);
  }

  /**
   * Opens a file under the /proc root for reading again and again (see readAgain), or
   * null when it does not exist.
   */
  openProc(rel: string): Deno.FsFile | null {
    try {
      return Deno.openSync(`${this.roots.proc}/${rel}`);
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
  }

  /** Text of a file under the /proc root, or null when it does not exist. */
  proc(rel: string): string | null {
    return readOrNull(`${this.roots.proc}/${rel}`);
  }

  /**
   * Like proc(), but tells a file that may not be read (hidepid, another user's process)
   * from one that is gone (the process exited).
   */
  procRead(rel: string): ProcRead {
    try {
      return { text: Deno.readTextFileSync(`${this.roots.proc}/${rel}`) };
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied) return { missing: "denied" };
      if (isGone(err)) return { missing: "gone" };
      throw err;
    }
  }

  /** Text of a file under the /etc root (see Roots.etc), or null when it does not exist. */
  etc(rel: string): string | null {
    return readOrNull(`${this.roots.etc ?? `${dirname(this.roots.proc)}/etc`}/${rel}`);
  }

  /** The first `max` bytes of a file under the /proc root (for files too long to read whole). */
  procHead(rel: string, max: number): string | null {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(`${this.roots.proc}/${rel}`);
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
    try {
      const buf = new Uint8Array(max);
      const n = file.readSync(buf);
      return new TextDecoder().decode(buf.subarray(0, n ?? 0));
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    } finally {
      file.close();
    }
  }

  /** Text of a file under the /sys root, or null when it does not exist. */
  sys(rel: string): string | null {
    return readOrNull(`${this.roots.sys}/${rel}`);
  }

  /** Names of the entries of a directory under the /sys root (empty when missing). */
  sysDir(rel: string): string[] {
    return dirNames(`${this.roots.sys}/${rel}`);
  }

  /** Process ids visible under the /proc root. */
  pids(): number[] {
    const pids: number[] = [];
    for (const name of dirNames(this.roots.proc)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) pids.push(Number(name));
    }
    return pids;
  }

  /**
   * Threads of a process, or null when it is gone. A directory's link count is
   * 2 + its subdirectories, and procfs counts each thread as one (no read of stat).
   */
  threadCount(pid: number): number | null {
    const dir = `${this.roots.proc}/${pid}/task`;
    try {
      const links = Deno.statSync(dir).nlink ?? 0;
      if (links > 2) return links - 2;
      return countEntries(dir); // file systems that do not count subdirectories in nlink
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
  }

  /** Whether a process directory still exists. */
  exists(pid: number): boolean {
    try {
      Deno.statSync(`${this.roots.proc}/${pid}`);
      return true;
    } catch {
      return false;
    }
  }

  /** Open file descriptors of a process, or null when it cannot be read. */
  fdCount(pid: number): number | null {
    const dir = `${this.roots.proc}/${pid}/fd`;
    try {
      if (this.fdCountFromStat) return Deno.statSync(dir).size;
      return countEntries(dir);
    } catch (err) {
      if (isGone(err)) return null;
      throw err;
    }
  }
}

/**
 * Reads a procfs file opened by ProcFs.openProc from its start: the kernel writes it
 * afresh on each read from offset 0, and an open file costs no path lookup (two thirds
 * of the cost of reading /proc/PID/stat). Null once the process is gone (ESRCH) or when
 * the text does not fit in `buf`.
 */
export function readAgain(file: Deno.FsFile, buf: Uint8Array): string | null {
  try {
    file.seekSync(0, Deno.SeekMode.Start);
    const n = file.readSync(buf);
    if (n === null || n === buf.length) return null;
    return decoder.decode(buf.subarray(0, n));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

const decoder = new TextDecoder();

function readSelfLink(procRoot: string): number | null {
  try {
    const pid = Number(Deno.readLinkSync(`${procRoot}/self`));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // not a link: not procfs
  }
}

/** The directory holding a path ("/proc" → "/"; "/tmp/x/proc" → "/tmp/x"). */
function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const cut = trimmed.lastIndexOf("/");
  return cut <= 0 ? "" : trimmed.slice(0, cut);
}

/** True for the errors a vanished or unreadable process produces. */
export function isGone(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied ||
    // ESRCH: the process exited between open and read.
    (err instanceof Error && /ESRCH|No such process/.test(err.message));
}

/** Entries of a directory, not counting dot files (a fixture tree's .keep). */
function countEntries(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(dir)) if (!e.name.startsWith(".")) n++;
  return n;
}

function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

function dirNames(path: string): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(path)) if (!e.name.startsWith(".")) names.push(e.name);
  } catch (err) {
    if (!isGone(err)) throw err;
  }
  return names;
}

function detectFdCountFromStat(procRoot: string): boolean {
  try {
    // Only procfs reports fd counts as a directory size; a fixture tree is a plain directory.
    const self = Deno.statSync(`${procRoot}/self/fd`);
    const root = Deno.statSync(procRoot);
    return root.size === 0 && self.size > 0;
  } catch {
    return false;
  }
}
