// The processes of the sample nearest a time: the `processes` column (a list of structs in
// sysmon's Parquet, JSON text in its CSV) as the dashboard's ProcessEntry records.
import { Refusal } from "../schema/refusal.ts";
import { PROCESS_FIELDS, PROCESSES_COLUMN } from "../schema/columns.ts";
import type { ProcessEntry } from "../views/types.ts";
import { ident } from "./engine.ts";
import { clip } from "./trace_file.ts";
import { clockFor, relation, type Trace, type Version, zoneFor } from "./version.ts";

/** The processes at the sample of `v` nearest `at` (none when the file has no such column). */
export function processesAt(
  t: Trace,
  v: Version,
  at: number,
  sourceZone?: string,
): { at: number | null; processes: ProcessEntry[] } {
  const col = v.byName.get(PROCESSES_COLUMN.name);
  if (!col || col.type !== "list" || v.rows === 0) return { at: null, processes: [] };
  const { zone } = zoneFor(t, v, sourceZone);
  const clock = clockFor(v, zone);
  // Look near `at` first: only the row groups around it are read.
  const step = (v.sampleInterval ?? 1) * 1000;
  for (const window of [20 * step, 3_600_000, Infinity]) {
    const rel = relation(v, clock, {
      sources: [col.source],
      exprs: [`${ident(col.source)} AS p`],
      start: window === Infinity ? undefined : at - window,
      end: window === Infinity ? undefined : at + window,
    });
    const table = t.run(
      `SELECT t::DOUBLE AS t, p FROM (${rel}) WHERE p IS NOT NULL
         ORDER BY abs(t - ${Math.round(at)}), t LIMIT 1`,
    );
    if (table.numRows === 0) continue;
    const cell = table.getChild("p")?.get(0);
    const structs = col.json
      ? parseProcesses(String(cell), t.path)
      : ((cell as { toArray(): { toJSON(): Record<string, unknown> }[] } | null)?.toArray() ??
        []).map((s) => s.toJSON());
    const processes = structs.map(processEntry);
    return { at: Number(table.getChild("t")!.get(0)), processes };
  }
  return { at: null, processes: [] };
}

/** The JSON text of a `processes` cell (sysmon's CSV) as objects. */
export function parseProcesses(text: string, path: string): Record<string, unknown>[] {
  try {
    const list = JSON.parse(text);
    if (Array.isArray(list)) return list.filter((p) => typeof p === "object" && p !== null);
  } catch {
    // reported below
  }
  throw new Refusal(
    "unreadable",
    `column 'processes' of ${path} holds '${clip(text)}', not a JSON list of processes`,
  );
}

/** A struct of the `processes` column as the dashboard's ProcessEntry. */
export function processEntry(o: Record<string, unknown>): ProcessEntry {
  const out: Record<string, unknown> = {};
  for (const f of PROCESS_FIELDS) {
    const x = o[f.name];
    out[f.name] = x === undefined || x === null ? null : typeof x === "bigint" ? Number(x) : x;
  }
  out.name ??= "";
  return out as unknown as ProcessEntry;
}
