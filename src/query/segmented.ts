// The files of one sysmon trace read as one (src/store/segments.ts names them, and says which
// to leave out because another file holds their rows already: a piece merged into its segment
// and not deleted yet): which files a trace or a directory view reads together.
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { Refusal } from "../schema/refusal.ts";
import { listSegments, segmentGlob, segmentNumber } from "../store/segments.ts";

export { rowRange, uncovered } from "../store/segments.ts";

/**
 * The trace at `path` and its segments, in number order: `path` first (a missing or bad file
 * there is its reader's to report), unless it is missing while segments of it are there.
 */
export function segmentFiles(path: string): string[] {
  const segments = listSegments(path).filter((s) => s.n > 0).map((s) => s.path);
  if (segments.length > 0 && !present(path)) {
    throw new Refusal(
      "not_found",
      `${path} is missing, but ${segments.length} later file(s) of its trace are beside it ` +
        `(${basename(segments[0]!)}…): open ${segmentGlob(path)} to read them`,
    );
  }
  return [path, ...segments];
}

/** Files of a directory or glob view that one trace wrote (a lone file: a trace of its own). */
export interface ViewGroup {
  /** Names the group in the view's listing (it changes when the base comes or goes). */
  key: string;
  /** The trace's own path (`trace.parquet`), listed in the view or not. */
  base: string;
  /** In number order. */
  files: string[];
  /** Whether the base is in the view: then its journal is read, once. */
  journal: boolean;
}

/** A view's files grouped by trace (`trace.0001.parquet` goes with `trace.parquet`). */
export function groupTraces(files: string[]): ViewGroup[] {
  const byBase = new Map<string, string[]>();
  for (const f of files) {
    const base = baseOf(f);
    byBase.set(base, [...(byBase.get(base) ?? []), f]);
  }
  return [...byBase].map(([base, members]) => {
    const number = (f: string) => segmentNumber(base, basename(f)) ?? 0;
    const journal = members.includes(base);
    return {
      key: journal ? base : `${base} (segments)`,
      base,
      files: members.sort((a, b) => number(a) - number(b)),
      journal,
    };
  });
}

/** The trace a file belongs to: `trace.0001.parquet` → `trace.parquet`; any other, itself. */
function baseOf(file: string): string {
  const m = /^(.+)\.\d{4,}\.parquet$/.exec(basename(file));
  if (!m) return file;
  const base = join(dirname(file), `${m[1]}.parquet`);
  return segmentNumber(base, basename(file)) !== null ? base : file;
}

/** Something is at `path` (a link, a FIFO: its reader says what is wrong with it). */
function present(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
