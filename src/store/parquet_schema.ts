// Mapping between sysmon's column kinds and Parquet schema elements and values.
import type { SchemaElement } from "hyparquet";
import type { ColumnDef, ColumnKind } from "../schema/columns.ts";
import { columnDef, PROCESS_FIELDS, PROCESSES_COLUMN } from "../schema/columns.ts";

type ScalarKind = Exclude<ColumnKind, "processes">;

/** Parquet schema element of a scalar column; `utc` marks timestamps as instants. */
function scalarElement(name: string, kind: ScalarKind, utc: boolean): SchemaElement {
  switch (kind) {
    case "timestamp":
      return {
        name,
        type: "INT64",
        repetition_type: "REQUIRED",
        // Legacy converted types exist only for UTC-adjusted timestamps.
        ...(utc ? { converted_type: "TIMESTAMP_MICROS" as const } : {}),
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: utc, unit: "MICROS" },
      };
    case "int64":
      return { name, type: "INT64", repetition_type: "OPTIONAL" };
    case "double":
      return { name, type: "DOUBLE", repetition_type: "OPTIONAL" };
    case "string":
      return {
        name,
        type: "BYTE_ARRAY",
        repetition_type: "OPTIONAL",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
      };
  }
}

/**
 * The Parquet schema elements of a column, depth first: one for a scalar column; for
 * `processes` the standard three-level LIST of an optional struct of optional fields
 * (what pyarrow writes for a list<struct<…>>):
 *
 *   optional group processes (LIST) { repeated group list { optional group element {
 *     optional int64 pid; optional int64 ppid; optional binary name (STRING); … } } }
 */
export function schemaElements(def: ColumnDef, utc: boolean): SchemaElement[] {
  if (def.kind !== "processes") return [scalarElement(def.name, def.kind, utc)];
  return [
    {
      name: def.name,
      repetition_type: "OPTIONAL",
      num_children: 1,
      converted_type: "LIST",
      logical_type: { type: "LIST" },
    },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", repetition_type: "OPTIONAL", num_children: PROCESS_FIELDS.length },
    ...PROCESS_FIELDS.map((f) => scalarElement(f.name, f.kind, utc)),
  ];
}

/** The column kind of a flat schema element written by sysmon (or a compatible writer). */
export function kindOf(el: SchemaElement): ColumnKind | null {
  if (el.num_children) return null;
  if (el.logical_type?.type === "TIMESTAMP" || el.converted_type?.startsWith("TIMESTAMP")) {
    return "timestamp";
  }
  if (el.type === "INT64" || el.type === "INT32") return "int64";
  if (el.type === "DOUBLE" || el.type === "FLOAT") return "double";
  if (el.type === "BYTE_ARRAY") return "string";
  return null;
}

/** A column definition for a name found in a file: known names keep their meaning. */
export function defFromSchema(el: SchemaElement): ColumnDef | null {
  const kind = kindOf(el);
  if (!kind) return null;
  const known = columnDef(el.name);
  return known && known.kind === kind ? known : { name: el.name, kind, unit: "", help: "" };
}

/**
 * The columns of a file's flat schema (the root first). A nested column is known only when
 * its elements are exactly the ones sysmon writes; `unsupported` names the first column
 * sysmon cannot append to.
 */
export function columnsFromSchema(
  schema: SchemaElement[],
): { defs: ColumnDef[] } | { unsupported: string } {
  const defs: ColumnDef[] = [];
  let i = 1;
  while (i < schema.length) {
    const el = schema[i]!;
    const end = i + subtreeSize(schema, i);
    if (!el.num_children) {
      const def = defFromSchema(el);
      if (!def) return { unsupported: el.name };
      defs.push(def);
    } else {
      const expected = schemaElements(PROCESSES_COLUMN, false);
      const found = schema.slice(i, end);
      if (el.name !== PROCESSES_COLUMN.name || !sameShape(found, expected)) {
        return { unsupported: el.name };
      }
      defs.push(PROCESSES_COLUMN);
    }
    i = end;
  }
  return { defs };
}

/** Elements in the subtree starting at schema[i], itself included. */
function subtreeSize(schema: SchemaElement[], i: number): number {
  let size = 1;
  for (let k = 0; k < (schema[i]!.num_children ?? 0); k++) {
    size += subtreeSize(schema, i + size);
  }
  return size;
}

function sameShape(a: SchemaElement[], b: SchemaElement[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i]!;
    return x.name === y.name && x.type === y.type && x.repetition_type === y.repetition_type &&
      (x.num_children ?? 0) === (y.num_children ?? 0);
  });
}
