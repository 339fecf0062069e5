// Mapping between sysmon's column kinds and Parquet schema elements and values.
import type { SchemaElement } from "hyparquet";
import type { ColumnDef, ColumnKind } from "./columns.ts";
import { columnDef } from "./columns.ts";

/** Parquet schema element for a column; `utc` marks timestamps as instants. */
export function schemaElement(def: ColumnDef, utc: boolean): SchemaElement {
  switch (def.kind) {
    case "timestamp":
      return {
        name: def.name,
        type: "INT64",
        repetition_type: "REQUIRED",
        // Legacy converted types exist only for UTC-adjusted timestamps.
        ...(utc ? { converted_type: "TIMESTAMP_MICROS" as const } : {}),
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: utc, unit: "MICROS" },
      };
    case "int64":
      return { name: def.name, type: "INT64", repetition_type: "OPTIONAL" };
    case "double":
      return { name: def.name, type: "DOUBLE", repetition_type: "OPTIONAL" };
    case "string":
      return {
        name: def.name,
        type: "BYTE_ARRAY",
        repetition_type: "OPTIONAL",
        converted_type: "UTF8",
        logical_type: { type: "STRING" },
      };
  }
}

/** The column kind of a flat schema element written by sysmon (or a compatible writer). */
export function kindOf(el: SchemaElement): ColumnKind | null {
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
