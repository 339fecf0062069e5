// What a registered Parquet holds, as a Version: its columns (named and typed as the
// dashboard shows them), who wrote it, the zone of its timestamps, and its counts. The same
// for sysmon's files and the original Python tool's (pandas Parquet, or CSV converted by
// load_version.ts).
//
// The original tool writes -1 for a reading it could not take; all its metrics are
// non-negative, so in its files (and only there) -1 in a numeric column is a gap (null).
// Its older container columns `<name>_container_<metric>` are renamed `docker_<name>_<metric>`.
import { Refusal } from "../schema/refusal.ts";
import { columnDef, isNumericColumn, PROCESSES_COLUMN } from "../schema/columns.ts";
import { renameLegacyColumn } from "../schema/docker_columns.ts";
import type { ColumnType } from "../views/types.ts";
import { ident, literal } from "./engine.ts";
import { noTimestamp, wrongType } from "./trace_file.ts";
import type { Column, Trace, Version } from "./version.ts";
import { resolveZone } from "./zone.ts";
import type { FooterFacts } from "./footer_facts.ts";

/** DuckDB's column types by schema (footer_facts.ts): the files of a trace share one. */
const typesBySchema = new Map<string, [string, string][]>();
const MAX_SCHEMAS = 64;

/**
 * The version of a registered Parquet `name`: columns, time zone, counts. `facts`: what its
 * footer says (a small one), which spares DuckDB queries.
 */
export function describe(
  t: Trace,
  key: string,
  name: string,
  format: "parquet" | "csv",
  kv: Record<string, string>,
  zonedText: boolean,
  facts: FooterFacts | null = null,
): Version {
  const types = facts ? typesOf(t, name, facts.schemaKey) : describeSql(t, selectAll(name));
  const metadata = Object.fromEntries(
    Object.entries(kv).filter(([k]) => k.startsWith("sysmon.")),
  );
  const producer = "sysmon.version" in metadata || "sysmon.trace_id" in metadata
    ? "sysmon"
    : "original";
  const notices: string[] = [];
  const tsType = types.find(([n]) => n === "timestamp")?.[1];
  if (tsType === undefined) throw noTimestamp(t.path, types.map(([n]) => n));
  if (columnType(tsType) !== "timestamp") {
    throw new Refusal(
      "unreadable",
      `column 'timestamp' of ${t.path} is ${tsType}, not a timestamp`,
    );
  }
  let units: Record<string, string> = {};
  try {
    units = JSON.parse(metadata["sysmon.units"] ?? "{}");
  } catch {
    notices.push("the file's sysmon.units metadata is not JSON; sysmon's own units are shown");
  }
  const columns = fileColumns(t, name, types, producer, units, notices);
  const dataTimezone = zoneOfData(tsType, zonedText, metadata, notices);
  const { rows, lo, hi, sampleInterval } = counts(t, name, metadata, facts?.counts ?? null);
  const byName = new Map(columns.map((c) => [c.name, c]));
  return {
    key,
    name,
    format,
    producer,
    metadata,
    columns,
    byName,
    tsType,
    dataTimezone,
    rows,
    wMin: lo,
    wMax: hi,
    sampleInterval,
    notices,
    clocks: new Map(),
    bounds: new Map(),
    summaries: new Map(),
    carried: new Map(),
    fileIndex: null,
    fileRead: null,
    fileSummaries: new Map(),
    fd: null,
    users: 0,
    retired: false,
  };
}

/** Column names and DuckDB types of a query. */
export function describeSql(t: Trace, sql: string): [string, string][] {
  const r = t.run(`DESCRIBE ${sql}`);
  const names = r.getChild("column_name")!.toArray() as string[];
  const types = r.getChild("column_type")!.toArray() as string[];
  return names.map((n, i) => [String(n), String(types[i])]);
}

/** The columns shown of a registered Parquet with these `types`; notices for the others. */
function fileColumns(
  t: Trace,
  name: string,
  types: [string, string][],
  producer: "sysmon" | "original",
  units: Record<string, string>,
  notices: string[],
): Column[] {
  const present = new Set(types.map(([n]) => n));
  const columns: Column[] = [];
  for (const [source, duck] of types) {
    if (source.startsWith("__index_level_")) continue; // a pandas index
    let type = columnType(duck);
    if (!type) {
      notices.push(`column '${source}' (${duck}) is not shown: sysmon cannot chart that type`);
      continue;
    }
    const colName = renameLegacyColumn(source, present);
    if (type === "string" && isNumericColumn(colName)) {
      const ex = t.run(
        `SELECT ${ident(source)} AS v FROM ${literal(name)}
           WHERE ${ident(source)} IS NOT NULL LIMIT 1`,
      );
      if (ex.numRows > 0) throw wrongType(t.path, source, String(ex.getChild("v")!.get(0)));
      type = "double"; // text only in type: every value is empty, a gap
    }
    const json = type === "string" && colName === PROCESSES_COLUMN.name;
    columns.push({
      name: colName,
      source,
      duck,
      type: json ? "list" : type,
      unit: units[colName] || columnDef(colName)?.unit || null,
      sentinel: producer === "original" && (type === "int" || type === "double"),
      json,
    });
  }
  return columns;
}

/** "UTC" for instants, the zone of naive times when the file names one (known), else null. */
function zoneOfData(
  tsType: string,
  zonedText: boolean,
  metadata: Record<string, string>,
  notices: string[],
): string | null {
  const instant = tsType === "TIMESTAMP WITH TIME ZONE" || zonedText;
  let dataTimezone: string | null = null;
  if (instant || metadata["sysmon.timezone"] === "UTC") dataTimezone = "UTC";
  else if (metadata["sysmon.timezone"] === "local") {
    const tz = metadata["sysmon.tz_name"];
    try {
      dataTimezone = tz ? resolveZone(tz) : null;
    } catch {
      notices.push(`the file names its time zone '${tz}', which this server does not know`);
    }
  }
  return dataTimezone;
}

/** `describeSql` of a file, once per schema. */
function typesOf(t: Trace, name: string, schemaKey: string): [string, string][] {
  const known = typesBySchema.get(schemaKey);
  if (known) return known;
  const types = describeSql(t, selectAll(name));
  if (typesBySchema.size >= MAX_SCHEMAS) typesBySchema.clear();
  typesBySchema.set(schemaKey, types);
  return types;
}

const selectAll = (name: string) => `SELECT * FROM ${literal(name)}`;

/**
 * Rows, smallest and largest stored timestamp, and the sample interval (s) of `name`;
 * `known`: the first three from the footer's statistics.
 */
function counts(
  t: Trace,
  name: string,
  metadata: Record<string, string>,
  known: FooterFacts["counts"],
) {
  const ts = ident("timestamp");
  const { rows, lo, hi } = known ?? (() => {
    const stats = t.run(
      `SELECT count(*)::DOUBLE AS n, epoch_ms(min(${ts}))::DOUBLE AS lo,
                epoch_ms(max(${ts}))::DOUBLE AS hi
         FROM ${literal(name)} WHERE ${ts} IS NOT NULL`,
    );
    return {
      rows: Number(stats.getChild("n")!.get(0)),
      lo: stats.getChild("lo")!.get(0) as number | null,
      hi: stats.getChild("hi")!.get(0) as number | null,
    };
  })();

  let sampleInterval: number | null = Number(metadata["sysmon.sample_interval_s"]);
  if (!(sampleInterval > 0)) {
    // The original tool does not record it: the median step of the first 1,000 samples.
    const est = t.run(
      `SELECT median(d)::DOUBLE AS d FROM (
           SELECT w - lag(w) OVER () AS d FROM (
             SELECT epoch_ms(${ts}) AS w FROM ${literal(name)} WHERE ${ts} IS NOT NULL LIMIT 1001))
         WHERE d > 0`,
    );
    const d = est.getChild("d")?.get(0) as number | null;
    sampleInterval = d ? d / 1000 : null;
  }
  return { rows, lo, hi, sampleInterval };
}

/** The dashboard's type of a DuckDB type, or null for one it cannot show. */
export function columnType(duck: string): ColumnType | null {
  const t = duck.toUpperCase();
  if (t.endsWith("[]")) return "list";
  if (t.startsWith("TIMESTAMP") || t === "DATE") return "timestamp";
  if (/^(U?(BIG|SMALL|TINY)?INT(EGER)?|HUGEINT|BOOLEAN)$/.test(t)) return "int";
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL.*)$/.test(t)) return "double";
  if (t === "VARCHAR") return "string";
  return null;
}
