// The traces `sysmon serve A B …` (or a directory or glob) shows side by side, listed again
// whenever the files named change: a directory that gains a trace gains one here, a trace's new
// segments join it, and a file traced from the page (Start) that is none of them joins as a
// trace of its own. A trace keeps its index (the page's `traces=`, its colour) while serve runs.
import { resolve } from "node:path";
import { isMany, listTraces } from "../query/multi.ts";
import { openSpec, type TraceSpec, traceSpecs } from "../query/compare_set.ts";
import type { OpenOptions } from "../query/source.ts";
import { messageOf, Refusal } from "../schema/refusal.ts";
import { crc32hex } from "../store/journal.ts";
import type { TraceMeta } from "../views/types.ts";
import { fileState, SourceHolder } from "./trace_holder.ts";

export interface ComparedTrace {
  index: number;
  spec: TraceSpec;
  holder: SourceHolder;
}

/** How long a listing of the files is trusted (one page asks for it several times). */
const LISTING_MS = 500;
/** How long a replaced trace source stays open for the answers still using it. */
const RETIRE_MS = 30_000;

export class Comparison {
  private readonly byIndex: ComparedTrace[] = [];
  private shown: ComparedTrace[] = [];
  /** The last listing: when, and the files each directory or glob given held. */
  private listing: { key: string; at: number; files: Map<string, string[]> } | null = null;
  /** Holders replaced (a trace now read another way), closed after RETIRE_MS. */
  private readonly retiring = new Map<SourceHolder, ReturnType<typeof setTimeout>>();

  /**
   * `paths` as given to serve; `traced()`: the file the page traces into (or last traced
   * into), which joins the traces when it is none of them.
   */
  constructor(
    readonly paths: string[],
    private readonly opts: OpenOptions = {},
    private readonly traced: () => string | null = () => null,
  ) {}

  /** Whether serve shows `paths` as a comparison: several, or a directory or glob. */
  static wanted(paths: string[]): boolean {
    return paths.length > 1 || paths.some(isMany);
  }

  /** The traces now, in index order. */
  traces(): ComparedTrace[] {
    const now = Date.now();
    if (!this.listing || now - this.listing.at > LISTING_MS) {
      const files = new Map(this.paths.filter(isMany).map((p) => [p, listed(p)]));
      const key = this.paths.map((p) => `${p}\n${files.get(p)?.join("\n") ?? ""}`).join("\0");
      if (key !== this.listing?.key) this.shown = traceSpecs(this.paths).map((s) => this.entry(s));
      this.listing = { key, at: now, files };
    }
    const file = this.traced();
    const listing = this.listing;
    if (file === null || this.shown.some((t) => covers(t.spec, file, listing.files))) {
      return this.shown;
    }
    return [...this.shown, this.entry({ id: file, path: file, groups: null })];
  }

  /** The trace of `spec`: the one of its id or its path when there is one, else a new one. */
  private entry(spec: TraceSpec): ComparedTrace {
    const was = this.byIndex.find((t) => t.spec.id === spec.id) ??
      this.byIndex.find((t) => resolve(t.spec.path) === resolve(spec.path));
    if (!was) {
      const own = { ...spec }; // its holder's: changed only while that holder reads it
      const t = { index: this.byIndex.length, spec: own, holder: this.holder(own) };
      this.byIndex.push(t);
      return t;
    }
    // Read the same way: its files (a group's listing is asked on every read) change under it.
    const same = (was.spec.groups === null) === (spec.groups === null) &&
      was.spec.path === spec.path;
    if (same) {
      was.spec.id = spec.id;
      was.spec.groups = spec.groups;
      return was;
    }
    this.retire(was.holder);
    was.spec = { ...spec };
    was.holder = this.holder(was.spec);
    return was;
  }

  /** Closes a holder once the answers that hold its source are given. */
  private retire(holder: SourceHolder) {
    const timer = setTimeout(() => {
      this.retiring.delete(holder);
      void holder.close();
    }, RETIRE_MS);
    this.retiring.set(holder, timer);
  }

  private holder(spec: TraceSpec): SourceHolder {
    return new SourceHolder(spec.path, () => openSpec(spec, this.opts));
  }

  /** A trace by index or id (`trace=` of the API); the first when none is named. */
  pick(trace?: string | null): ComparedTrace {
    const traces = this.traces();
    if (trace === undefined || trace === null || trace === "") return traces[0]!;
    const found = /^\d{1,3}$/.test(trace)
      ? traces.find((t) => t.index === Number(trace))
      : traces.find((t) => t.spec.id === trace);
    if (!found) {
      throw new Refusal(
        "not_found",
        `No trace '${trace.slice(0, 80)}': give an index (${
          traces.map((t) => t.index).join(", ")
        }) or a trace id (GET /api/traces lists them).`,
      );
    }
    return found;
  }

  /** Changes when the traces or any trace's files do. */
  async version(): Promise<string> {
    const traces = this.traces();
    const states = await Promise.all(traces.map((t) => traceState(t.spec)));
    return crc32hex(states.map((s, k) => `${traces[k]!.index}:${s}`).join("|"));
  }

  /** What each trace is: index, id, host, first and last sample, name. */
  async list(zone?: string, tz?: string) {
    return await Promise.all(
      this.traces().map(async (t) => {
        const head = { index: t.index, id: t.spec.id, path: t.spec.path };
        try {
          return { ...head, ...described(await (await t.holder.get()).meta(zone), tz) };
        } catch (err) {
          return { ...head, problem: messageOf(err) };
        }
      }),
    );
  }

  async close(): Promise<void> {
    const retiring = [...this.retiring];
    this.retiring.clear();
    for (const [, timer] of retiring) clearTimeout(timer);
    await Promise.all([...this.byIndex.map((t) => t.holder), ...retiring.map(([h]) => h)]
      .map((h) => h.close()));
  }
}

/** The state of every file of a trace (each of its groups, when it has several). */
async function traceState(spec: TraceSpec): Promise<string> {
  const paths = spec.groups === null ? [spec.path] : spec.groups.map((g) => g.base);
  const states = await Promise.all(paths.map((p) => fileState(p)));
  return states.map((s) => (s.kind === "present" ? s.version : "-")).join(",");
}

/** The files a directory or glob lists now (none: empty). */
function listed(path: string): string[] {
  try {
    return listTraces(path);
  } catch {
    return [];
  }
}

/** Whether the trace of `spec` is the one `file` holds (`listed`: the last listing's files). */
function covers(spec: TraceSpec, file: string, listed: Map<string, string[]>): boolean {
  const f = resolve(file);
  if (resolve(spec.path) === f) return true;
  if (spec.groups !== null) return spec.groups.some((g) => resolve(g.base) === f);
  return (listed.get(spec.path) ?? []).some((p) => resolve(p) === f);
}

/** "YYYY-MM-DD HH:MM" in `tz` (an IANA zone; the server's for Local). */
function startText(ms: number, tz?: string): string {
  const zone = tz && tz !== "local" ? tz : undefined;
  const f = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** A trace's host and start, as the page names it. */
export function described(meta: TraceMeta, tz?: string) {
  const host = meta.host ?? meta.metadata["sysmon.host"] ?? meta.file.split("/").pop()!;
  const start = meta.first === null ? "empty" : startText(meta.first, tz);
  return { host, first: meta.first, last: meta.last, rows: meta.rows, label: `${host} · ${start}` };
}
