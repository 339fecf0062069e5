// Raw rows of a range as CSV (RFC 4180), streamed in chunks of about EXPORT_CHUNK_ROWS rows:
// `timestamp` (ISO 8601 UTC, to the microsecond) then the columns asked for.
import { Refusal } from "../schema/refusal.ts";
import { ident, type Table } from "./engine.ts";
import {
  boundsFor,
  checkRange,
  clockFor,
  type Column,
  relation,
  type Trace,
  valueSql,
  type Version,
  zoneFor,
} from "./version.ts";
import type { WallClock } from "./wall_clock.ts";

/** Rows per chunk of a CSV export. */
const EXPORT_CHUNK_ROWS = 5000;

/** The CSV text of a range of version `v`, header first. */
export async function* exportCsv(
  t: Trace,
  v: Version,
  q: { columns?: string[]; start?: number; end?: number; sourceZone?: string },
): AsyncIterable<string> {
  const { zone } = zoneFor(t, v, q.sourceZone);
  const clock = clockFor(v, zone);
  const { first, last } = boundsFor(t, v, zone);
  const start = q.start ?? first ?? 0;
  const end = q.end ?? last ?? 0;
  checkRange(start, end);
  const cols = exportColumns(t, v, q.columns);
  yield ["timestamp", ...cols.map((c) => c.name)].map(csvCell).join(",") + "\n";
  if (v.rows === 0) return;
  const base = {
    sources: cols.map((c) => c.source),
    exprs: cols.map((c, i) => `${c.sentinel ? valueSql(c) : ident(c.source)} AS c${i}`),
    micros: true,
  };
  for (const [a, b] of chunks(t, v, clock, start, end)) {
    const rel = relation(v, clock, { ...base, start: a, end: b });
    const table = t.run(`SELECT * FROM (${rel}) ORDER BY tus`);
    yield csvLines(table, cols.length);
    await Promise.resolve(); // let the response stream take it
  }
}

/** Columns of an export: all scalar ones by default; unknown or list columns are refused. */
function exportColumns(t: Trace, v: Version, names?: string[]): Column[] {
  if (!names || names.length === 0) {
    return v.columns.filter((c) => c.type !== "list" && c.name !== "timestamp");
  }
  const wanted = [...new Set(names)].filter((n) => n !== "timestamp");
  const unknown = wanted.filter((n) => !v.byName.has(n));
  if (unknown.length > 0) {
    throw new Refusal(
      "bad_input",
      `columns: ${t.path} has no column ${unknown.map((n) => `'${n}'`).join(", ")}`,
    );
  }
  const cols = wanted.map((n) => v.byName.get(n)!);
  const list = cols.find((c) => c.type === "list");
  if (list) {
    throw new Refusal(
      "bad_input",
      `columns: '${list.name}' holds lists of processes, which CSV cannot carry; ` +
        `use /api/processes`,
    );
  }
  return cols;
}

/** Time windows of about EXPORT_CHUNK_ROWS rows each, covering [start, end]. */
function chunks(
  t: Trace,
  v: Version,
  clock: WallClock,
  start: number,
  end: number,
): [number, number][] {
  const width = Math.max(1, Math.ceil((end - start + 1) / 1000));
  const rel = relation(v, clock, { sources: [], exprs: [], start, end });
  const h = t.run(
    `SELECT (t // ${width})::DOUBLE AS b, count(*)::DOUBLE AS n FROM (${rel})
       GROUP BY 1 ORDER BY 1`,
  );
  const bs = h.getChild("b")!.toArray() as Float64Array;
  const ns = h.getChild("n")!.toArray() as Float64Array;
  const out: [number, number][] = [];
  let from = start, rows = 0;
  for (let i = 0; i < bs.length; i++) {
    rows += ns[i]!;
    if (rows >= EXPORT_CHUNK_ROWS && i < bs.length - 1) {
      const to = (bs[i]! + 1) * width - 1;
      out.push([from, to]);
      from = to + 1;
      rows = 0;
    }
  }
  out.push([from, end]);
  return out;
}

/** Epoch µs as ISO 8601 UTC: milliseconds, and microseconds when there are any. */
export function isoMicros(us: bigint): string {
  let ms = us / 1000n;
  if (us < 0n && ms * 1000n !== us) ms -= 1n;
  const rest = us - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, "0")}Z`;
}

/** One CSV cell (RFC 4180 quoting). */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Lines of an export chunk: `tus` then `c0`…. */
function csvLines(table: Table, columns: number): string {
  const tus = table.getChild("tus")!;
  const vecs = Array.from({ length: columns }, (_, i) => table.getChild(`c${i}`)!);
  const lines: string[] = [];
  for (let r = 0; r < table.numRows; r++) {
    let line = isoMicros(BigInt(tus.get(r)));
    for (const v of vecs) line += "," + csvCell(v.get(r));
    lines.push(line);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}
