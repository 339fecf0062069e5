// The served trace: whether it is there (and a version that changes with it), and the one
// open TraceSource of it.
import { isMany, listTraces } from "../query/multi.ts";
import { crc32hex } from "../store/journal.ts";
import type { TraceSource } from "../views/types.ts";

export type FileState = { kind: "missing" } | { kind: "present"; version: string };

const statKey = (st: Deno.FileInfo) => `${st.ino ?? 0}-${st.size}-${st.mtime?.getTime() ?? 0}`;

/**
 * Whether the trace is there, and a version that changes whenever it, its CSV sidecar or its
 * journal does.
 */
export async function fileState(path: string): Promise<FileState> {
  if (!isMany(path)) return await oneFileState(path);
  let files: string[];
  try {
    files = listTraces(path);
  } catch {
    return { kind: "missing" }; // none yet: the page waits for them
  }
  const states = await Promise.all(files.map(oneFileState));
  const versions = states.map((s, i) => `${files[i]}:${s.kind === "present" ? s.version : "-"}`);
  return { kind: "present", version: crc32hex(versions.join("|")) };
}

async function oneFileState(path: string): Promise<FileState> {
  let main: Deno.FileInfo;
  try {
    main = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { kind: "missing" };
    // A link loop, no permission: the source says what is wrong when the page asks it.
    return { kind: "present", version: `error-${crc32hex(String(err))}` };
  }
  // The CSV sidecar, and the journal: the data layer answers with its rows too.
  const beside = await Promise.all([`${path}.meta.json`, `${path}.journal`].map(async (p) => {
    try {
      return statKey(await Deno.stat(p));
    } catch (err) {
      return err instanceof Deno.errors.NotFound ? "-" : `error-${crc32hex(String(err))}`;
    }
  }));
  return { kind: "present", version: `${statKey(main)}.${beside.join(".")}` };
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
