// Replacing a file so that readers see the old or the new one, never a mix.
import { basename, dirname, join } from "node:path";

/** Temporary name in the same directory (same file system, so rename is atomic). */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${Deno.pid}.tmp`);
}

/**
 * Writes `tail` at offset `keep` of a copy of `path` (its first `keep` bytes kept),
 * fsyncs, renames over `path` and fsyncs the directory. Returns the new inode.
 */
export function replaceAtomically(path: string, tail: Uint8Array, keep = 0): number | null {
  const tmp = tempPath(path);
  try {
    const f = keep > 0 ? startCopy(path, tmp, keep) : create(tmp, modeOf(path));
    try {
      writeAll(f, tail);
      f.syncDataSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  syncDir(dirname(path));
  return Deno.statSync(path).ino;
}

/** The permission bits of `path`, null when it is not there. */
function modeOf(path: string): number | null {
  try {
    const mode = Deno.statSync(path).mode;
    return mode === null ? null : mode & 0o7777;
  } catch {
    return null;
  }
}

/** A new, empty `tmp` with `mode` (the file it replaces keeps its permissions). */
function create(tmp: string, mode: number | null): Deno.FsFile {
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    if (mode !== null) Deno.chmodSync(tmp, mode);
  } catch (err) {
    f.close();
    throw err;
  }
  return f;
}

/**
 * `tmp` holding the first `keep` bytes of `path`, open for writing after them. Most of the
 * file: copied by the kernel (a reflink where the file system has them; the mode with it),
 * the rest cut off; a small part of it (a trace's first hour: the magic alone): only those
 * bytes are copied.
 */
function startCopy(path: string, tmp: string, keep: number): Deno.FsFile {
  if (keep >= Deno.statSync(path).size / 2) {
    Deno.copyFileSync(path, tmp);
    const f = Deno.openSync(tmp, { write: true });
    try {
      f.truncateSync(keep);
      f.seekSync(keep, Deno.SeekMode.Start);
    } catch (err) {
      f.close();
      throw err;
    }
    return f;
  }
  const src = Deno.openSync(path, { read: true });
  let f: Deno.FsFile | null = null;
  try {
    f = create(tmp, modeOf(path));
    const buf = new Uint8Array(Math.min(keep, 1 << 20));
    for (let done = 0; done < keep;) {
      const n = src.readSync(buf.subarray(0, Math.min(buf.length, keep - done)));
      if (n === null || n === 0) throw new Error(`${path} ended before byte ${keep}`);
      writeAll(f, buf.subarray(0, n));
      done += n;
    }
    return f;
  } catch (err) {
    f?.close();
    throw err;
  } finally {
    src.close();
  }
}

export function writeAll(f: Deno.FsFile, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
}

export function syncDir(dir: string) {
  const d = Deno.openSync(dir, { read: true });
  try {
    d.syncSync();
  } finally {
    d.close();
  }
}

/** Removes a file that may not exist. */
export function removeQuietly(path: string) {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Removes temporary files that killed runs left beside `path` (their pid is gone). */
export function removeStaleTemps(path: string) {
  const prefix = `.${basename(path)}.`;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dirname(path))];
  } catch {
    return; // the directory is checked, with a clear message, by option validation
  }
  for (const e of entries) {
    const m = e.name.startsWith(prefix) ? /\.(\d+)\.tmp$/.exec(e.name) : null;
    if (m && !processAlive(Number(m[1]))) removeQuietly(join(dirname(path), e.name));
  }
}

function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
