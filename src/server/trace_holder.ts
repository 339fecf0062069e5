// The served trace: whether it is there (and a version that changes with it), and the one
// open TraceSource of it.
import { isMany, listTraces } from "../query/multi.ts";
import { crc32hex } from "../store/journal.ts";
import { listSegments, traceBytes as segmentBytes } from "../store/segments.ts";
import { fileSize } from "../store/sink.ts";
import type { TraceSource } from "../views/types.ts";

export type FileState = { kind: "missing" } | { kind: "present"; version: string };

const statKey = (st: Deno.FileInfo) => `${st.ino ?? 0}-${st.size}-${st.mtime?.getTime() ?? 0}`;

/**
 * Whether the trace is there, and a version that changes whenever it, a file beside it that
 * holds its later rows (a segment), its CSV sidecar or its journal does.
 */
export async function fileState(path: string): Promise<FileState> {
  if (!isMany(path)) return await oneFileState(path, true);
  let files: string[];
  try {
    files = listTraces(path);
  } catch {
    return { kind: "missing" }; // none yet: the page waits for them
  }
  // The view lists segments itself: each file alone (a trace's own file: with its journal).
  const states = await Promise.all(files.map((f) => oneFileState(f, false)));
  const versions = states.map((s, i) => `${files[i]}:${s.kind === "present" ? s.version : "-"}`);
  return { kind: "present", version: crc32hex(versions.join("|")) };
}

async function oneFileState(path: string, segments: boolean): Promise<FileState> {
  const later = segments && path.endsWith(".parquet")
    ? listSegments(path).filter((s) => s.n > 0).map((s) => s.path)
    : [];
  let main: string;
  try {
    main = statKey(await Deno.stat(path));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      // A link loop, no permission: the source says what is wrong when the page asks it.
      return { kind: "present", version: `error-${crc32hex(String(err))}` };
    }
    if (later.length === 0) return { kind: "missing" };
    main = "-"; // its segments without it: the source says so when the page asks it
  }
  // The segments, the CSV sidecar, and the journal: the data layer answers with their rows.
  const beside = await Promise.all(
    [...later, `${path}.meta.json`, `${path}.journal`].map(async (p) => {
      try {
        return statKey(await Deno.stat(p));
      } catch (err) {
        return err instanceof Deno.errors.NotFound ? "-" : `error-${crc32hex(String(err))}`;
      }
    }),
  );
  const version = `${main}.${beside.join(".")}`;
  return { kind: "present", version: later.length ? crc32hex(version) : version };
}

/** Bytes of the trace's files (the trace and its segments); null when there is none. */
export function traceBytes(path: string): number | null {
  return path.endsWith(".parquet") ? segmentBytes(path) : fileSize(path);
}

/**
 * Keeps one open TraceSource (it reads the file again by itself when the file changes);
 * a failed open is tried again on the next request.
 */
export class SourceHolder {
  private current: Promise<TraceSource> | null = null;

  constructor(
    readonly path: string,
    private readonly open: (path: string) => Promise<TraceSource>,
  ) {}

  get(): Promise<TraceSource> {
    if (!this.current) {
      const source = this.open(this.path);
      this.current = source;
      source.catch(() => {
        if (this.current === source) this.current = null;
      });
    }
    return this.current;
  }

  async close(): Promise<void> {
    const source = this.current;
    this.current = null;
    if (!source) return;
    try {
      await (await source).close();
    } catch {
      // a source that failed to open has nothing to close
    }
  }
}
