// A trace file on disk: its identity (inode, size, mtime, and its CSV sidecar's), one version
// of it read through one descriptor, and the errors a user sees for a file that is missing,
// unreadable or not a trace.
//
// A Parquet version is read in place later through the descriptor opened for it, which pins
// its inode: a file renamed over ours leaves that version complete. A file that changes in
// place while its footer or text is read is read again by the caller, so a half-written
// version is never used.
import { Refusal } from "../schema/refusal.ts";
import fs from "node:fs";
import { inspectPath, openRegularFile, PathKindError, readAt } from "../store/paths.ts";

const PAR1 = new TextEncoder().encode("PAR1");

/** One version of a file, read through one descriptor. */
export interface OpenedFile {
  /** Open (read-only), pinning the version's inode; the caller closes it. */
  fd: number;
  key: string;
  size: number;
  kind: "parquet" | "text";
  /** Parquet: the footer (with its length and magic); text: the whole file. */
  bytes: Uint8Array;
}

/**
 * The identity of the file now (a version's key is it, "|" and its sidecar's key); throws a
 * Refusal when the file is missing.
 */
export function ownKey(path: string): string {
  const st = statOrNull(path);
  if (!st) throw missing(path);
  return fileKey(st);
}

/** The identity of the CSV sidecar `<path>.meta.json`, "-" when there is none. */
export function sidecarKey(path: string): string {
  const st = statOrNull(`${path}.meta.json`);
  return st ? fileKey(st) : "-";
}

/** The sidecar's metadata (string values), and a notice when it exists but cannot be used. */
export function readSidecar(path: string): { kv: Record<string, string>; notice: string | null } {
  const sidecar = `${path}.meta.json`;
  let text: string;
  try {
    const fd = openRegularFile(sidecar, "a JSON file");
    try {
      text = new TextDecoder().decode(fs.readFileSync(fd));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (err instanceof PathKindError && err.pathKind === "missing") return { kv: {}, notice: null };
    return { kv: {}, notice: `${sidecar} could not be read (${(err as Error).message}); ignored` };
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw 0;
    const kv: Record<string, string> = {};
    for (const [k, val] of Object.entries(parsed)) if (typeof val === "string") kv[k] = val;
    return { kv, notice: null };
  } catch {
    return { kv: {}, notice: `${sidecar} is not a JSON object of metadata; ignored` };
  }
}

/**
 * Opens `path` and reads what a version needs: a Parquet file's footer (the rest is read in
 * place later), a text file whole. Null when the file changed while read (in place: size or
 * mtime moved); a file renamed over the path meanwhile does not matter, the descriptor holds
 * the one it opened.
 */
export async function openVersion(
  path: string,
  afterRead?: () => void | Promise<void>,
): Promise<OpenedFile | null> {
  let fd: number;
  try {
    fd = openRegularFile(path); // a FIFO or a device is refused, never read
  } catch (err) {
    throw openError(path, err);
  }
  let keep = false;
  try {
    const st = fs.fstatSync(fd);
    const changed = () => {
      const now = fs.fstatSync(fd);
      return now.size !== st.size || now.mtimeMs !== st.mtimeMs;
    };
    let kind: "parquet" | "text";
    let bytes: Uint8Array;
    try {
      if (st.size === 0) {
        throw new Refusal("unreadable", `${path} is empty (0 bytes): no trace to show yet`);
      }
      ({ kind, bytes } = readVersion(path, fd, st.size));
    } catch (err) {
      if (changed()) return null; // read while being rewritten: try again
      throw err;
    }
    await afterRead?.();
    if (changed()) return null;
    keep = kind === "parquet";
    return { fd, key: fileKey(st), size: st.size, kind, bytes };
  } catch (err) {
    throw openError(path, err);
  } finally {
    if (!keep) fs.closeSync(fd);
  }
}

function readVersion(path: string, fd: number, size: number) {
  const head = readAt(fd, Math.min(4, size), 0);
  if (!startsWith(head, PAR1)) {
    const bytes = readAt(fd, size, 0);
    if (!looksLikeText(bytes)) {
      throw new Refusal(
        "unreadable",
        `${path} is neither a Parquet file (no PAR1 header) nor CSV text`,
      );
    }
    return { kind: "text" as const, bytes };
  }
  const truncated = () =>
    new Refusal(
      "unreadable",
      `${path} is a truncated Parquet file (${size} bytes, no footer): it was cut short, or ` +
        `is still being written by a program that does not replace it atomically`,
    );
  if (size < 12) throw truncated();
  const tail = readAt(fd, 8, size - 8);
  if (!endsWith(tail, PAR1)) throw truncated();
  const len = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (len + 12 > size) {
    throw new Refusal(
      "unreadable",
      `${path} is not a readable Parquet file (its footer length ${len} exceeds the file)`,
    );
  }
  return { kind: "parquet" as const, bytes: readAt(fd, len + 8, size - len - 8) };
}

/** What a file's key is made of (node:fs's Stats has it too). */
interface StatFacts {
  dev: number;
  ino: number | null;
  size: number;
  mtimeMs: number;
}

/** A file's version: device, inode, size and mtime. */
export function fileKey(st: StatFacts): string {
  // Whole ms: node:fs's Stats and Deno's FileInfo (statOrNull) give the same key.
  return `${st.dev}:${st.ino}:${st.size}:${Math.trunc(st.mtimeMs)}`;
}

/**
 * Deno's stat, and synchronous: node:fs's Stats and the promise of an async stat cost 8 KB of
 * garbage a call, and every answer stats each file of a trace (278 hourly files: 2.4 MB).
 */
function statOrNull(path: string): StatFacts | null {
  try {
    const st = Deno.statSync(path);
    return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtime?.getTime() ?? NaN };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw openError(path, err);
  }
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function endsWith(bytes: Uint8Array, suffix: Uint8Array): boolean {
  const at = bytes.length - suffix.length;
  return at >= 0 && suffix.every((b, i) => bytes[at + i] === b);
}

/** No NUL and no control characters but tab, newline and carriage return in the first 4 KiB. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return true;
}

// -- errors ------------------------------------------------------------------------------

function missing(path: string): Refusal {
  const seen = inspectPath(path);
  if (seen.kind === "dangling link") return new Refusal("not_found", `${path} ${seen.says}`);
  return new Refusal(
    "not_found",
    `${path} does not exist (yet): start a tracer writing it (sysmon run -o ${path}), ` +
      `or check the path`,
  );
}

function openError(path: string, err: unknown): Refusal {
  if (err instanceof PathKindError && err.pathKind === "missing") return missing(path);
  if (err instanceof Refusal) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return missing(path);
  if (code === "EACCES" || code === "EPERM") {
    return new Refusal("unreadable", `cannot read ${path}: permission denied`);
  }
  if (code === "ELOOP") return new Refusal("unreadable", `${path} ${inspectPath(path).says}`);
  return new Refusal("unreadable", `cannot read ${path}: ${(err as Error).message}`);
}

/** The file has no `timestamp` column: name the ones it has. */
export function noTimestamp(path: string, found: string[]): Refusal {
  return new Refusal(
    "unreadable",
    `No column 'timestamp' in ${path}; found: ${found.slice(0, 20).join(", ")}` +
      (found.length > 20 ? `, … (${found.length} columns)` : ""),
  );
}

/** A column that should hold numbers holds text (`example`). */
export function wrongType(path: string, column: string, example: string): Refusal {
  return new Refusal(
    "unreadable",
    `column '${column}' of ${path} holds text ('${clip(example)}') where numbers belong`,
  );
}

/** A value from a file, short enough for a message. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
