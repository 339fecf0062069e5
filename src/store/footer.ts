// The Parquet footer with sealed row groups kept as their Thrift bytes: a fold serialises
// only the open row group, so its cost and the tracer's memory do not grow with the number
// of sealed groups (one an hour).
//
// hyparquet-writer's writeMetadata does the serialising. A FileMetaData written with no row
// groups and one written with some differ first at the row_groups list header; what comes
// before and after it is the same, and the groups' bytes sit between.
import type { KeyValue, RowGroup, SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";

const STRUCT = 12;
const MAGIC = 0x31524150; // "PAR1"

export interface FooterFields {
  schema: SchemaElement[];
  numRows: bigint;
  kv: KeyValue[];
  createdBy: string;
}

/** The Thrift bytes of row groups (back to back, as a list's elements). */
export function rowGroupBytes(schema: SchemaElement[], groups: RowGroup[]): Uint8Array {
  if (groups.length === 0) return new Uint8Array(0);
  const fields = { schema, numRows: 0n, kv: [], createdBy: "" };
  const without = serialize(fields, []);
  const withGroups = serialize(fields, groups);
  const at = firstDifference(without, withGroups);
  const header = listHeader(groups.length).length;
  const tail = without.length - at - 1;
  return withGroups.slice(at + header, withGroups.length - tail);
}

/** Writes the footer (metadata, its length, the magic) with `groups` (Thrift bytes, in order). */
export function writeFooter(
  writer: ByteWriter,
  f: FooterFields,
  groups: { bytes: Uint8Array; count: number }[],
) {
  const without = serialize(f, []);
  const probe = serialize(f, [{ columns: [], total_byte_size: 0n, num_rows: 0n }]);
  const at = firstDifference(without, probe);
  const count = groups.reduce((n, g) => n + g.count, 0);
  const start = writer.offset;
  writer.appendBytes(without.subarray(0, at));
  writer.appendBytes(listHeader(count));
  for (const g of groups) writer.appendBytes(g.bytes);
  writer.appendBytes(without.subarray(at + 1));
  writer.appendUint32(writer.offset - start);
  writer.appendUint32(MAGIC);
}

/** FileMetaData's Thrift bytes (without the length writeMetadata appends). */
function serialize(f: FooterFields, groups: RowGroup[]): Uint8Array {
  const w = new ByteWriter(4096);
  writeMetadata(
    w,
    {
      version: 2,
      schema: f.schema,
      num_rows: f.numRows,
      row_groups: groups,
      metadata_length: 0,
      key_value_metadata: f.kv,
      created_by: f.createdBy,
    } as Parameters<typeof writeMetadata>[1],
  );
  return w.getBytes().slice(0, w.index - 4);
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  throw new Error("footer serialisation: no row group list found");
}

/** A compact-protocol list header for `n` structs. */
function listHeader(n: number): Uint8Array {
  if (n < 15) return Uint8Array.of((n << 4) | STRUCT);
  const out = [0xf0 | STRUCT];
  for (let v = n;; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v);
      break;
    }
    out.push((v & 0x7f) | 0x80);
  }
  return Uint8Array.from(out);
}
