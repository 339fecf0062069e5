// Output paths typed into the page stay inside one directory: the served file's, or --data-dir.
import { basename, dirname, extname, isAbsolute, join, normalize, resolve } from "node:path";

const SEPARATOR = "/";

/** A path the page may not write; the message says why and what is allowed. */
export class PathError extends Error {}

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
  if (text === "") throw new PathError("The output path is empty; give a file name.");
  if (text.includes("\0")) throw new PathError("The output path contains a NUL character.");
  let rootReal: string;
  try {
    rootReal = Deno.realPathSync(root);
  } catch (err) {
    throw new PathError(`The data directory ${root} cannot be opened (${(err as Error).message}).`);
  }
  if (text.split(/[\\/]/).includes("..")) {
    throw new PathError(
      `'${text}': '..' is not allowed in an output path; give a name inside ${rootReal}.`,
    );
  }
  const lexical = isAbsolute(text) ? normalize(text) : join(rootReal, text);
  const rootLexical = resolve(root);
  if (isAbsolute(text) && !isInside(lexical, rootReal) && !isInside(lexical, rootLexical)) {
    throw new PathError(
      `'${text}' is outside the data directory ${rootReal}; outputs from the page stay inside it.`,
    );
  }
  const ext = extname(lexical).toLowerCase();
  if (ext !== ".parquet" && ext !== ".csv") {
    throw new PathError(`'${text}': the output must end in .parquet or .csv.`);
  }
  let dirReal: string;
  try {
    dirReal = Deno.realPathSync(dirname(lexical));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new PathError(`'${text}': the directory ${dirname(lexical)} does not exist.`);
    }
    throw new PathError(`'${text}': ${(err as Error).message}`);
  }
  if (!isInside(dirReal, rootReal)) {
    throw new PathError(
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
      throw new PathError(`'${text}': ${(err as Error).message}`);
    }
  }
  if (st?.isSymlink) {
    let real: string | null = null;
    try {
      real = Deno.realPathSync(target);
    } catch {
      // dangling, or a loop: judged by where it points
    }
    const points = real ?? resolve(dirReal, Deno.readLinkSync(target));
    if (!isInside(points, rootReal)) {
      throw new PathError(
        `'${text}' is a symbolic link out of the data directory ${rootReal} (to ${points}); ` +
          `outputs from the page stay inside it.`,
      );
    }
    if (real === null) {
      throw new PathError(`'${text}' is a symbolic link to a file that does not exist.`);
    }
    return confineOutputPath(real, rootReal);
  }
  if (st?.isDirectory) throw new PathError(`'${text}' is a directory; give a file name.`);
  return target;
}
