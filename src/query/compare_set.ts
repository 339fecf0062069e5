// Which traces `sysmon serve A B …` shows: each path given is a trace (its segments and journal
// with it), and a directory or glob holding files of several traces (different
// `sysmon.trace_id`) is one trace per id. Several traces make a comparison (src/server/
// compare.ts); a single trace, or a directory of one trace's files (or of files that name no
// trace, such as the original tool's), is read as it always was (source.ts openTrace).
import { isMany, listTraces } from "./multi.ts";
import { groupTraces, type ViewGroup } from "./segmented.ts";
import { readFooter } from "../store/parquet_trace.ts";
import { openGroups, type OpenOptions, openTrace } from "./source.ts";
import type { TraceSource } from "../views/types.ts";

export interface TraceSpec {
  /** `sysmon.trace_id`, else the path (files that name no trace). */
  id: string;
  /** As given (a file, a directory or a glob), or the trace's own file inside a directory. */
  path: string;
  /** The files of the trace inside a directory or glob that holds others; null: `path` alone. */
  groups: ViewGroup[] | null;
}

/** The trace id a Parquet file's footer names; null for another file or one that names none. */
export function traceIdOf(file: string): string | null {
  if (!file.endsWith(".parquet")) return null;
  try {
    const kv = readFooter(file).meta.key_value_metadata ?? [];
    return kv.find((e) => e.key === "sysmon.trace_id")?.value || null;
  } catch {
    return null; // missing or unreadable: its reader says what is wrong when asked
  }
}

/** The traces `paths` name, each once (the first path naming a trace keeps it). */
export function traceSpecs(paths: string[]): TraceSpec[] {
  const out: TraceSpec[] = [];
  const seen = new Set<string>();
  const add = (spec: TraceSpec) => {
    if (seen.has(spec.id)) return;
    seen.add(spec.id);
    out.push(spec);
  };
  for (const path of paths) {
    if (!isMany(path)) {
      add({ id: traceIdOf(path) ?? path, path, groups: null });
      continue;
    }
    let groups: ViewGroup[];
    try {
      groups = groupTraces(listTraces(path));
    } catch {
      add({ id: path, path, groups: null }); // none yet: the view waits for them, as today
      continue;
    }
    const byId = new Map<string, ViewGroup[]>();
    for (const g of groups) {
      const id = traceIdOf(g.files[0]!) ?? "";
      byId.set(id, [...(byId.get(id) ?? []), g]);
    }
    const named = [...byId.keys()].filter((id) => id !== "");
    // One trace (or only files that name none): the view as it is. A named trace beside files
    // that name none is split, so that the two are never read as one.
    if (named.length === 0 || (named.length === 1 && !byId.has(""))) {
      add({ id: named[0] ?? path, path, groups: null });
      continue;
    }
    for (const [id, gs] of byId) {
      // Files that name no trace: each group a trace of its own.
      if (id === "") { for (const g of gs) add({ id: g.base, path: g.base, groups: [g] }); }
      else add({ id, path: gs[0]!.base, groups: gs });
    }
  }
  return out;
}

/** Opens one trace of a comparison. */
export async function openSpec(spec: TraceSpec, opts: OpenOptions = {}): Promise<TraceSource> {
  if (spec.groups === null) return await openTrace(spec.path, opts);
  // The spec's groups as listed now (src/server/comparison.ts lists them again).
  return await openGroups(spec.path, () => spec.groups ?? [], opts);
}
