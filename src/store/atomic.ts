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
    if (keep > 0) Deno.copyFileSync(path, tmp);
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: keep === 0 });
    try {
      if (keep > 0) {
        f.truncateSync(keep);
        f.seekSync(keep, Deno.SeekMode.Start);
      }
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
