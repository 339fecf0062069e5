// Output paths typed into the page stay inside one directory: the served file's, or --data-dir.
// Paths are looked at before they are opened: a FIFO, a device or a symbolic link loop is
// refused with a message that says what it is, never opened in a way that could block.
import { Refusal } from "../schema/refusal.ts";
import fs from "node:fs";
import { basename, dirname, extname, isAbsolute, join, normalize, resolve } from "node:path";

const SEPARATOR = "/";

/** True when `path` is `root` or lies below it (both already normalised). */
export function isInside(path: string, root: string): boolean {
  if (root === SEPARATOR) return path.startsWith(SEPARATOR);
  return path === root || path.startsWith(root + SEPARATOR);
}

/**
 * Resolves an output path from the page against `root` and returns the real absolute path to
 * write. Refuses `..`, absolute paths elsewhere, directories that do not exist, symbolic links
 * (of the directory or of the file) that lead out of `root`, and names that are not `.parquet`
 * or `.csv`.
 */
export function confineOutputPath(requested: string, root: string): string {
  const text = requested.trim();
  if (text === "") throw new Refusal("bad_input", "The output path is empty; give a file name.");
  if (text.includes("\0")) {
    throw new Refusal("bad_input", "The output path contains a NUL character.");
  }
  let rootReal: string;
  try {
    rootReal = Deno.realPathSync(root);
  } catch {
    throw new Refusal("bad_input", `The data directory ${inspectDescribed(root)}.`);
  }
  if (text.split(/[\\/]/).includes("..")) {
    throw new Refusal(
      "bad_input",
      `'${text}': '..' is not allowed in an output path; give a name inside ${rootReal}.`,
    );
  }
  const lexical = isAbsolute(text) ? normalize(text) : join(rootReal, text);
  const rootLexical = resolve(root);
  if (isAbsolute(text) && !isInside(lexical, rootReal) && !isInside(lexical, rootLexical)) {
    throw new Refusal(
      "bad_input",
      `'${text}' is outside the data directory ${rootReal}; outputs from the page stay inside it.`,
    );
  }
  const ext = extname(lexical).toLowerCase();
  if (ext !== ".parquet" && ext !== ".csv") {
    throw new Refusal("bad_input", `'${text}': the output must end in .parquet or .csv.`);
  }
  let dirReal: string;
  try {
    dirReal = Deno.realPathSync(dirname(lexical));
  } catch {
    throw new Refusal(
      "bad_input",
      `'${text}': the directory ${inspectDescribed(dirname(lexical))}.`,
    );
  }
  if (!isInside(dirReal, rootReal)) {
    throw new Refusal(
      "bad_input",
      `'${text}' leads out of the data directory ${rootReal} through a symbolic link ` +
        `(to ${dirReal}); outputs from the page stay inside it.`,
    );
  }
  const target = join(dirReal, basename(lexical));
  let st: Deno.FileInfo | null = null;
  try {
    st = Deno.lstatSync(target);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new Refusal("bad_input", `'${text}': ${(err as Error).message}`);
    }
  }
  if (st?.isSymlink) {
    let real: string | null = null;
    try {
      real = Deno.realPathSync(target);
    } catch (err) {
      if (err instanceof Deno.errors.FilesystemLoop) {
        throw new Refusal("bad_input", `'${text}' is a symbolic link loop; give another name.`);
      }
      // dangling: judged by where it points
    }
    const points = real ?? resolve(dirReal, Deno.readLinkSync(target));
    if (!isInside(points, rootReal)) {
      throw new Refusal(
        "bad_input",
        `'${text}' is a symbolic link out of the data directory ${rootReal} (to ${points}); ` +
          `outputs from the page stay inside it.`,
      );
    }
    if (real === null) {
      throw new Refusal("bad_input", `'${text}' is a symbolic link to a file that does not exist.`);
    }
    return confineOutputPath(real, rootReal);
  }
  if (st?.isDirectory) {
    throw new Refusal("bad_input", `'${text}' is a directory; give a file name.`);
  }
  if (st && !st.isFile) {
    // A FIFO or a device would hang or never end the tracer and every read of the trace.
    throw new Refusal(
      "bad_input",
      `'${text}' ${inspectPath(target).says}, not a trace file; give another name.`,
    );
  }
  return target;
}

// ---------------------------------------------------------------- what a path is

/** What is at a path, following symbolic links. */
export type PathKind =
  | "file"
  | "directory"
  | "fifo"
  | "socket"
  | "character device"
  | "block device"
  | "other"
  | "missing"
  | "dangling link"
  | "link loop"
  | "denied"
  | "error";

/** How a message names each kind of thing that exists. */
const NAMES: Partial<Record<PathKind, string>> = {
  file: "a regular file",
  directory: "a directory",
  fifo: "a FIFO (named pipe)",
  socket: "a socket",
  "character device": "a character device",
  "block device": "a block device",
  other: "neither a regular file nor a directory",
};

/**
 * A path that is not what was wanted; `message` names the path and what it is. A refusal:
 * not_found when nothing is there, unreadable when something else is.
 */
export class PathKindError extends Refusal {
  readonly pathKind: PathKind;
  constructor(pathKind: PathKind, message: string) {
    super(
      pathKind === "missing" || pathKind === "dangling link" ? "not_found" : "unreadable",
      message,
    );
    this.name = "PathKindError";
    this.pathKind = pathKind;
  }
}

/**
 * What is at `path` (following symbolic links), and a phrase for messages that follows the
 * path: "is a FIFO (named pipe)", "is a symbolic link loop", "does not exist", ….
 */
export function inspectPath(path: string): { kind: PathKind; says: string } {
  try {
    return existing(fs.statSync(path));
  } catch (err) {
    return statFailure(path, err);
  }
}

function existing(st: fs.Stats): { kind: PathKind; says: string } {
  const kind: PathKind = st.isFile()
    ? "file"
    : st.isDirectory()
    ? "directory"
    : st.isFIFO()
    ? "fifo"
    : st.isSocket()
    ? "socket"
    : st.isCharacterDevice()
    ? "character device"
    : st.isBlockDevice()
    ? "block device"
    : "other";
  return { kind, says: `is ${NAMES[kind]}` };
}

function statFailure(path: string, err: unknown): { kind: PathKind; says: string } {
  const code = (err as NodeJS.ErrnoException).code;
  const isLink = () => {
    try {
      return fs.lstatSync(path).isSymbolicLink();
    } catch {
      return false; // not there, or the loop is in a directory above it
    }
  };
  if (code === "ELOOP") {
    return {
      kind: "link loop",
      says: isLink() ? "is a symbolic link loop" : "lies under a symbolic link loop",
    };
  }
  if (code === "ENOENT" || code === "ENOTDIR") {
    if (!isLink()) return { kind: "missing", says: "does not exist" };
    return {
      kind: "dangling link",
      says: `is a symbolic link to ${fs.readlinkSync(path)}, which does not exist`,
    };
  }
  if (code === "EACCES" || code === "EPERM") {
    return { kind: "denied", says: "cannot be read: permission denied" };
  }
  return { kind: "error", says: `cannot be read: ${(err as Error).message}` };
}

/** `path says`, with ", not WANTED" where something else is there. */
function describe(path: string, { kind, says }: { kind: PathKind; says: string }, wanted: string) {
  return `${path} ${says}${kind in NAMES && kind !== "other" ? `, not ${wanted}` : ""}`;
}

/**
 * Opens `path` read-only (a node:fs descriptor; the caller closes it) only when it is a
 * regular file: it is looked at first, opened without blocking (a FIFO put there meanwhile
 * cannot hang the open), and the opened descriptor is checked again. Otherwise throws a
 * PathKindError saying what is there (`wanted`: what it should have been, for the message).
 */
export function openRegularFile(path: string, wanted = "a trace file"): number {
  const seen = inspectPath(path);
  if (seen.kind !== "file") throw new PathKindError(seen.kind, describe(path, seen, wanted));
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const failed = statFailure(path, err);
    throw new PathKindError(failed.kind, describe(path, failed, wanted));
  }
  const opened = existing(fs.fstatSync(fd));
  if (opened.kind === "file") return fd;
  fs.closeSync(fd);
  throw new PathKindError(opened.kind, describe(path, opened, wanted));
}

/**
 * Why `sysmon serve` cannot show `path`, or null. A file that does not exist yet is fine
 * in a directory that does (a tracer started later writes it); anything else must be a
 * regular file this process can open.
 */
export function servedFileProblem(path: string): string | null {
  try {
    fs.closeSync(openRegularFile(path));
    return null;
  } catch (err) {
    if (!(err instanceof PathKindError)) throw err;
    if (err.pathKind === "directory") {
      return `${err.message}`;
    }
    if (err.pathKind !== "missing") return err.message;
    const dir = dirname(resolve(path));
    const parent = inspectPath(dir);
    if (parent.kind === "directory") return null;
    return `${path} does not exist, and its directory ${dir} ${parent.says}`;
  }
}

/** `path` and what is there, for messages: "/x/y does not exist". */
function inspectDescribed(path: string): string {
  return `${path} ${inspectPath(path).says}`;
}

/** Why `path` cannot be the data directory, or null. */
export function dataDirProblem(path: string): string | null {
  const seen = inspectPath(path);
  return seen.kind === "directory" ? null : describe(path, seen, "a directory");
}

/** `length` bytes at `position` (fewer at the end of the file). */
export function readAt(fd: number, length: number, position: number): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const n = fs.readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return off === length ? buf : buf.subarray(0, off);
}
