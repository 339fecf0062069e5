// The processes of a range of one version of a trace file, from its `processes` column (a list
// of structs per sample): every process listed (processList: when it was seen, its peaks and
// sums, for the Processes tab's list and for picking the top ones of each chart), and the
// values of chosen processes bucketed to a chart's width (processSeries). Both are one scan in
// DuckDB (UNNEST of the list, GROUP BY process or bucket), so only one row per process or per
// bucket and process reaches JavaScript. sysmon's CSV keeps the lists as JSON text, which this
// DuckDB cannot parse: those rows are read and tallied here (a CSV is held in memory whole).
//
// Cost: the list column is decoded whole (DuckDB-WASM 1.28 reads every field of the structs),
// about 9 ms per 1,000 samples of 14 processes, whatever is asked of it; fields are taken out of
// the structs once (a condition on a struct's field costs an extraction per row and term).
// Answers are kept per version (a few MB), so the page's next request for the same range, and
// a full segment's answers while its trace grows, cost nothing.
import { PROCESSES_COLUMN } from "../schema/columns.ts";
import type { ProcessRecord } from "../schema/column_types.ts";
import type {
  ProcessField,
  ProcessKey,
  ProcessList,
  ProcessListQuery,
  ProcessMetric,
  ProcessSeriesQuery,
  ProcessSeriesResult,
  ProcessSummary,
} from "../views/types.ts";
import { ident, literal, type Table } from "./engine.ts";
import {
  keyOf,
  pickOrders,
  PROCESS_METRICS,
  PROCESS_SERIES_FIELDS,
  ProcessTally,
  searchText,
  SeriesBuckets,
} from "./process_merge.ts";
import { parseProcesses, processEntry } from "./processes_at.ts";
import { bucketWidth } from "./reduce.ts";
import {
  boundsFor,
  checkRange,
  clockFor,
  type Column,
  relation,
  type Trace,
  type Version,
  zoneFor,
} from "./version.ts";

/** Processes named in one query at most (a chart's legend, a history). */
const MAX_PROCESS_KEYS = 200;

/** The range of a query, and the rows of it that hold process lists (the SQL of `p`). */
function scope(
  t: Trace,
  v: Version,
  q: { start?: number; end?: number; sourceZone?: string },
) {
  const col = v.byName.get(PROCESSES_COLUMN.name);
  const { zone } = zoneFor(t, v, q.sourceZone);
  const clock = clockFor(v, zone);
  const { first, last } = boundsFor(t, v, zone);
  const start = q.start ?? first ?? 0;
  const end = q.end ?? last ?? 0;
  checkRange(start, end);
  if (!col || col.type !== "list" || v.rows === 0) return { start, end, col: null, rel: "" };
  const rel = relation(v, clock, {
    sources: [col.source],
    exprs: [`${ident(col.source)} AS p`],
    start,
    end,
  });
  return { start, end, col, rel };
}

/** The fields the file's structs have (an older file may lack the newer ones). */
function structFields(col: Column): Set<string> {
  const body = col.duck.slice(col.duck.indexOf("(") + 1, col.duck.lastIndexOf(")"));
  return new Set([...body.matchAll(/(?:^|,\s*)"?([A-Za-z_][A-Za-z0-9_]*)"?\s/g)].map((m) => m[1]!));
}

/** SQL of a field of the struct `s` (NULL when the file's structs lack it). */
function field(fields: Set<string>, name: keyof ProcessRecord, cast = ""): string {
  return fields.has(name) ? `s.${ident(name)}${cast}` : "NULL";
}

/** SQL of a process field's value, as fieldValue() reads a record. */
function fieldSql(fields: Set<string>, f: ProcessField): string {
  const d = "::DOUBLE";
  switch (f) {
    case "cpu":
      return field(fields, "cpu_percent", d);
    case "memory":
      return field(fields, "rss_bytes", d);
    case "gpu":
      return field(fields, "gpu_memory_bytes", d);
    case "read":
      return field(fields, "read_bytes_per_sec", d);
    case "write":
      return field(fields, "write_bytes_per_sec", d);
    case "threads":
      return field(fields, "threads", d);
    case "io": {
      const r = fieldSql(fields, "read"), w = fieldSql(fields, "write");
      return `CASE WHEN ${r} IS NULL AND ${w} IS NULL THEN NULL ` +
        `ELSE coalesce(${r}, 0) + coalesce(${w}, 0) END`;
    }
  }
}

/**
 * The structs of the range's lists as rows: `t`, `pid`, `name` and the columns `cols` (SQL
 * AS alias). Fields are taken out of the struct once, here: a condition on `s.<field>` per
 * row costs DuckDB a struct extraction each time it is evaluated.
 */
function unnested(rel: string, cols: string[]): string {
  return `SELECT t, s.pid AS pid, coalesce(s.${ident("name")}, '') AS name${
    cols.map((c) => `, ${c}`).join("")
  } FROM (SELECT t, unnest(p) AS s FROM (${rel}) WHERE p IS NOT NULL)`;
}

/**
 * SQL that is true for the rows of unnested() a query may ask for: its search (over `name`
 * and `cmd`), and the PIDs of its keys (their names are checked after grouping: keyedSql).
 */
function filterSql(search: string | null, keys: ProcessKey[] | undefined, cmd: boolean): string {
  const parts = ["pid IS NOT NULL"];
  if (keys) {
    const pids = [...new Set(keys.slice(0, MAX_PROCESS_KEYS).map((k) => Math.trunc(k.pid)))];
    parts.push(pids.length ? `pid IN (${pids.join(", ")})` : "false");
  }
  if (search !== null) {
    const s = literal(search.toLowerCase());
    const pid = /^\d{1,10}$/.test(search) ? ` OR pid = ${Number(search)}` : "";
    const inCmd = cmd ? ` OR strpos(lower(cmd), ${s}) > 0` : "";
    parts.push(`(strpos(lower(name), ${s}) > 0${inCmd}${pid})`);
  }
  return parts.join(" AND ");
}

/** SQL that is true for the groups (pid, name) of `keys` (all when there are none). */
function keyedSql(keys: ProcessKey[] | undefined): string {
  if (!keys) return "true";
  const one = keys.slice(0, MAX_PROCESS_KEYS).map((k) =>
    `(pid = ${Math.trunc(k.pid)} AND name = ${literal(k.name)})`
  );
  return one.length ? one.join(" OR ") : "false";
}

/** SQL of an order's sort key (as compareBy() of process_merge.ts sorts). */
function orderSql(by: ProcessListQuery["orders"][number]["by"]): string {
  return `${by === "last" ? "last" : by} DESC NULLS LAST, pid, name`;
}

// -- answers kept per version ---------------------------------------------------------------

/** Numbers kept at most over all answers (about 8 bytes each: 16 MB at most). */
const KEPT_NUMBERS = 2_000_000;
const kept = new Map<string, { value: unknown; size: number }>();
let keptSize = 0;

/** About how many numbers an answer holds. */
function sizeOf(v: ProcessList | ProcessSeriesResult): number {
  return "processes" in v
    ? 20 * v.processes.length + 10
    : v.t.length * (1 + 7 * v.series.length) + 10;
}

/**
 * The answer of `sql` (which names the version: a new version never reuses one). A full
 * segment of a long trace never changes: its answers are found again while the trace grows.
 */
function remember<T extends ProcessList | ProcessSeriesResult>(sql: string, compute: () => T): T {
  const hit = kept.get(sql);
  if (hit) {
    kept.delete(sql);
    kept.set(sql, hit); // the most recent last
    return hit.value as T;
  }
  const value = compute();
  const size = sizeOf(value);
  if (size > KEPT_NUMBERS / 4) return value;
  kept.set(sql, { value, size });
  keptSize += size;
  for (const [k, e] of kept) {
    if (keptSize <= KEPT_NUMBERS) break;
    kept.delete(k);
    keptSize -= e.size;
  }
  return value;
}

const numberAt = (table: Table, name: string, i: number): number | null => {
  const x = table.getChild(name)?.get(i);
  return x === null || x === undefined ? null : Number(x);
};
const textAt = (table: Table, name: string, i: number): string | null => {
  const x = table.getChild(name)?.get(i);
  return x === null || x === undefined ? null : String(x);
};

// -- the list ---------------------------------------------------------------------------------

/** The processes a range of `v` lists (see ProcessListQuery). */
export function versionProcessList(t: Trace, v: Version, q: ProcessListQuery): ProcessList {
  const { start, end, col, rel } = scope(t, v, q);
  if (!col) return { start, end, recorded: false, total: 0, processes: [] };
  const search = searchText(q.search);
  if (col.json) {
    const tally = new ProcessTally(q);
    eachList(t, rel, (at, list) => tally.add(at, list));
    const all = tally.summaries();
    return { start, end, recorded: true, total: all.length, processes: pickOrders(all, q.orders) };
  }
  const fields = structFields(col);
  const cols = [
    `${field(fields, "user")} AS usr`,
    `${field(fields, "cmdline")} AS cmd`,
    `${field(fields, "container")} AS ctr`,
    ...PROCESS_METRICS.map((m: ProcessMetric) => `${fieldSql(fields, m)} AS ${m}`),
  ];
  const aggs = PROCESS_METRICS.map((m) => `max(${m}) AS ${m}_peak, sum(${m}) AS ${m}_sum`);
  const orders = q.orders.filter((o) => o.limit > 0);
  const qualify = orders.length
    ? orders.map((o) => `row_number() OVER (ORDER BY ${orderSql(o.by)}) <= ${Math.trunc(o.limit)}`)
      .join(" OR ")
    : "false";
  const where = filterSql(search, q.keys, fields.has("cmdline"));
  const groups = `SELECT pid, name, arg_max(usr, t) AS usr, arg_max(cmd, t) AS cmd,
      arg_max(ctr, t) AS ctr, min(t)::DOUBLE AS first, max(t)::DOUBLE AS last,
      count(*)::DOUBLE AS samples, ${aggs.join(", ")}
    FROM (${unnested(rel, cols)}) WHERE ${where} GROUP BY pid, name`;
  const sql = `WITH a AS (SELECT * FROM (${groups}) WHERE ${keyedSql(q.keys)})
    SELECT *, count(*) OVER ()::DOUBLE AS total FROM a QUALIFY ${qualify}`;
  return remember(sql, () => {
    const table = t.run(sql);
    const processes: ProcessSummary[] = [];
    let total = 0;
    for (let i = 0; i < table.numRows; i++) {
      total = numberAt(table, "total", i) ?? total;
      const metrics = (stat: "peak" | "sum") =>
        Object.fromEntries(
          PROCESS_METRICS.map((m) => [m, numberAt(table, `${m}_${stat}`, i)]),
        ) as Record<ProcessMetric, number | null>;
      processes.push({
        pid: numberAt(table, "pid", i)!,
        name: textAt(table, "name", i) ?? "",
        user: textAt(table, "usr", i),
        cmdline: textAt(table, "cmd", i),
        container: textAt(table, "ctr", i),
        first: numberAt(table, "first", i)!,
        last: numberAt(table, "last", i)!,
        samples: numberAt(table, "samples", i)!,
        peak: metrics("peak"),
        sum: metrics("sum"),
      });
    }
    if (table.numRows === 0 && orders.length === 0) {
      const distinct = `SELECT DISTINCT pid, name FROM (${
        unnested(rel, [`${field(fields, "cmdline")} AS cmd`])
      }) WHERE ${where}`;
      const n = `SELECT count(*)::DOUBLE AS n FROM (${distinct}) WHERE ${keyedSql(q.keys)}`;
      total = numberAt(t.run(n), "n", 0) ?? 0;
    }
    return { start, end, recorded: true, total, processes };
  });
}

/** Calls `fn` with each sample's list of a JSON-text column (sysmon's CSV), in time order. */
function eachList(t: Trace, rel: string, fn: (at: number, list: ProcessRecord[]) => void) {
  const table = t.run(`SELECT t::DOUBLE AS t, p FROM (${rel}) WHERE p IS NOT NULL ORDER BY t`);
  for (let i = 0; i < table.numRows; i++) {
    const text = textAt(table, "p", i);
    if (text === null) continue;
    fn(numberAt(table, "t", i)!, parseProcesses(text, t.path).map(processEntry));
  }
}

// -- the series -------------------------------------------------------------------------------

/** The values of the processes asked for over a range of `v`, bucketed (see ProcessSeriesQuery). */
export function versionProcessSeries(
  t: Trace,
  v: Version,
  q: ProcessSeriesQuery,
): ProcessSeriesResult {
  const { start, end, col, rel } = scope(t, v, q);
  const keys = q.keys.slice(0, MAX_PROCESS_KEYS);
  const width = q.width && q.width >= 1
    ? Math.round(q.width)
    : bucketWidth(end - start + 1, Math.max(4, Math.floor(q.points)));
  if (!col) return new SeriesBuckets(keys, width).result(start, end);
  if (col.json) {
    const buckets = new SeriesBuckets(keys, width);
    eachList(t, rel, (at, list) => buckets.add(at, list));
    return buckets.result(start, end);
  }
  const fields = structFields(col);
  const bucket = `floor(t::DOUBLE / ${width})::DOUBLE`;
  const timesSql = `SELECT ${bucket} AS b, min(t)::DOUBLE AS t, count(*)::DOUBLE AS n
    FROM (${rel}) GROUP BY 1 ORDER BY 1`;
  const cols = PROCESS_SERIES_FIELDS.map((f) => `${fieldSql(fields, f)} AS ${f}`);
  const maxes = PROCESS_SERIES_FIELDS.map((f) => `max(${f}) AS ${f}`);
  // Another process with a PID asked for comes back too: left out below (by its name).
  const valuesSql = keys.length === 0 ? "" : `SELECT ${bucket} AS b, pid, name, ${maxes.join(", ")}
    FROM (${unnested(rel, cols)}) WHERE ${filterSql(null, keys, false)} GROUP BY 1, 2, 3`;
  return remember(`${timesSql};\n${valuesSql}`, () => {
    const times = t.run(timesSql);
    const index = new Map<number, number>();
    const at: number[] = [];
    let rows = 0;
    for (let i = 0; i < times.numRows; i++) {
      index.set(numberAt(times, "b", i)!, i);
      at.push(numberAt(times, "t", i)!);
      rows += numberAt(times, "n", i)!;
    }
    const series = keys.map((k) => ({
      pid: k.pid,
      name: k.name,
      values: Object.fromEntries(
        PROCESS_SERIES_FIELDS.map((f) => [f, new Array<number | null>(at.length).fill(null)]),
      ) as Record<ProcessField, (number | null)[]>,
    }));
    const byKey = new Map(series.map((s) => [keyOf(s), s]));
    if (valuesSql) {
      const table = t.run(valuesSql);
      for (let i = 0; i < table.numRows; i++) {
        const s = byKey.get(keyOf({
          pid: numberAt(table, "pid", i)!,
          name: textAt(table, "name", i) ?? "",
        }));
        const j = index.get(numberAt(table, "b", i)!);
        if (!s || j === undefined) continue;
        for (const f of PROCESS_SERIES_FIELDS) s.values[f][j] = numberAt(table, f, i);
      }
    }
    return { start, end, rows, t: at, series };
  });
}
