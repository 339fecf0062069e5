// The `processes` column (list<struct<…>>) of the rows since the last fold: kept field by
// field, every row's entries back to back (typed arrays for the numbers, about 80 bytes an
// entry instead of a JS object's 180), and encoded leaf by leaf straight from there: the
// levels of a list of structs are simple enough to write down, where the writer's general
// Dremel walk and its statistics cost seconds for an hour of rows.
//
// A fold encodes these rows as one page per field (plain values, zstd; a page starts at a
// row, as data page v2 requires); the open row group keeps the pages (open_group.ts).
import type { ColumnChunk, CompressionCodec, SchemaElement } from "hyparquet";
import type { ColumnEncoder, Writer } from "hyparquet-writer/src/types.js";
import { ByteWriter } from "hyparquet-writer";
import { writeDataPageV2 } from "hyparquet-writer/src/datapage.js";
import {
  fitsKind,
  PROCESS_FIELDS,
  type ProcessFieldDef,
  type ProcessRecord,
} from "../schema/columns.ts";

/** One field's encoded pages, for the rows encoded so far. */
export interface LeafPages {
  pages: Uint8Array[];
  values: number;
  uncompressed: number;
}

const NUMERIC = PROCESS_FIELDS.filter((f) => f.kind !== "string");
const STRING = PROCESS_FIELDS.filter((f) => f.kind === "string");

/** Rows of process lists (or nulls), stored by field. */
export class ProcessColumn {
  /** Rows held. */
  rows = 0;
  /** starts[i]: first entry of row i; starts[rows]: entries held. */
  private starts = new Uint32Array(65);
  /** 1 where the row's list is null (not empty). */
  private nullRows = new Uint8Array(64);
  /** One per numeric field of NUMERIC; NaN is null. */
  private nums: Float64Array[] = NUMERIC.map(() => new Float64Array(256));
  /** One per string field of STRING. */
  private strs: (string | null)[][] = STRING.map(() => []);

  get entries(): number {
    return this.starts[this.rows]!;
  }

  /** Appends a row: a list, or null. */
  push(list: readonly ProcessRecord[] | null) {
    if (this.rows + 1 >= this.nullRows.length) this.growRows(this.nullRows.length * 2);
    const at = this.entries;
    const n = list?.length ?? 0;
    if (at + n > this.nums[0]!.length) this.growEntries(Math.max(2 * (at + n), 256));
    for (let k = 0; k < n; k++) {
      const p = list![k]!;
      NUMERIC.forEach((f, j) => {
        const v: unknown = p[f.name];
        this.nums[j]![at + k] = typeof v === "number" && fitsKind(f.kind, v) ? v : NaN;
      });
      STRING.forEach((f, j) => {
        const v: unknown = p[f.name];
        this.strs[j]![at + k] = typeof v === "string" ? v : null;
      });
    }
    this.nullRows[this.rows] = list === null ? 1 : 0;
    this.rows++;
    this.starts[this.rows] = at + n;
  }

  /** Row i's list, rebuilt. */
  get(i: number): ProcessRecord[] | null {
    if (this.nullRows[i]) return null;
    const out: ProcessRecord[] = [];
    for (let e = this.starts[i]!; e < this.starts[i + 1]!; e++) {
      const p: Record<string, number | string | null> = {};
      for (const f of PROCESS_FIELDS) p[f.name] = this.value(f, e);
      out.push(p as unknown as ProcessRecord);
    }
    return out;
  }

  /** Drops the first n rows. */
  dropFirst(n: number) {
    n = Math.min(n, this.rows);
    const cut = this.starts[n]!;
    const entries = this.entries;
    for (const a of this.nums) a.copyWithin(0, cut, entries);
    for (const a of this.strs) a.splice(0, cut);
    for (let i = n; i <= this.rows; i++) this.starts[i - n] = this.starts[i]! - cut;
    this.nullRows.copyWithin(0, n, this.rows);
    this.rows -= n;
  }

  /**
   * The rows as one page per field (the leaves of `name` in `schema`, the file's, root first;
   * the levels follow schemaElements("processes"): definition 0 a null list, 1 an empty
   * list, 3 a null field, 4 a value; repetition 1 inside a list).
   */
  encode(
    schema: SchemaElement[],
    name: string,
    codec: CompressionCodec,
    compressors: Record<string, (b: Uint8Array) => Uint8Array>,
  ): LeafPages[] {
    const { path, leafOf } = leafPaths(schema, name);
    const encoder = (k: number): ColumnEncoder => ({
      columnName: `${name}.list.element.${PROCESS_FIELDS[k]!.name}`,
      element: leafOf(k),
      schemaPath: [...path, leafOf(k)],
      codec,
      compressors,
      stats: false, // min/max of a list's field: no reader prunes on them
      pageSize: 0,
      columnIndex: false,
      offsetIndex: false,
    });
    const leaves = PROCESS_FIELDS.map(() => ({ pages: [], values: 0, uncompressed: 0 }));
    this.encodePages(0, this.rows, encoder, leaves);
    return leaves;
  }

  /** Encodes rows [from, to) as one more page of each field. */
  private encodePages(
    from: number,
    to: number,
    encoder: (k: number) => ColumnEncoder,
    leaves: LeafPages[],
  ) {
    // The shape every field shares: one slot per entry, one for a null or empty list.
    const rep: number[] = [];
    const base: number[] = [];
    const entry: number[] = [];
    for (let i = from; i < to; i++) {
      const s = this.starts[i]!, end = this.starts[i + 1]!;
      if (this.nullRows[i] || s === end) {
        rep.push(0);
        base.push(this.nullRows[i] ? 0 : 1);
        entry.push(-1);
        continue;
      }
      for (let e = s; e < end; e++) {
        rep.push(e === s ? 0 : 1);
        base.push(3);
        entry.push(e);
      }
    }
    PROCESS_FIELDS.forEach((f, k) => {
      const values = new Array<bigint | number | string | undefined>(entry.length);
      const def = new Array<number>(entry.length);
      const nums = f.kind === "string" ? null : this.nums[NUMERIC.indexOf(f)]!;
      const strs = f.kind === "string" ? this.strs[STRING.indexOf(f)]! : null;
      const int = f.kind === "int64";
      for (let s = 0; s < entry.length; s++) {
        const e = entry[s]!;
        let v: bigint | number | string | undefined = undefined;
        if (e >= 0) {
          if (strs) v = strs[e] ?? undefined;
          else {
            const x = nums![e]!;
            if (!Number.isNaN(x)) v = int ? BigInt(Math.round(x)) : x;
          }
        }
        values[s] = v;
        def[s] = base[s]! + (v === undefined ? 0 : 1);
      }
      const out = new ByteWriter();
      const uncompressed = writeDataPageV2({
        writer: out,
        column: encoder(k),
        encoding: "PLAIN",
        pageData: { values, definitionLevels: def, repetitionLevels: rep, maxDefinitionLevel: 4 },
      });
      const leaf = leaves[k]!;
      leaf.pages.push(out.getBytes().slice());
      leaf.values += entry.length;
      leaf.uncompressed += uncompressed;
    });
  }

  private value(f: ProcessFieldDef, e: number): number | string | null {
    if (f.kind === "string") return this.strs[STRING.indexOf(f)]![e] ?? null;
    const v = this.nums[NUMERIC.indexOf(f)]![e]!;
    return Number.isNaN(v) ? null : f.kind === "int64" ? Math.round(v) : v;
  }

  private growRows(cap: number) {
    const starts = new Uint32Array(cap + 1);
    starts.set(this.starts);
    this.starts = starts;
    const nulls = new Uint8Array(cap);
    nulls.set(this.nullRows);
    this.nullRows = nulls;
  }

  private growEntries(cap: number) {
    this.nums = this.nums.map((a) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, Math.min(a.length, cap)));
      return b;
    });
  }
}

/** The leaves of nested column `name` in `schema` (root first). */
function leafPaths(schema: SchemaElement[], name: string) {
  const top = schema.findIndex((e) => e.name === name && e.num_children === 1);
  if (top < 0) throw new Error(`no nested column '${name}' in the schema`);
  const path = [schema[0]!, ...schema.slice(top, top + 3)];
  const leafOf = (k: number) => {
    const leaf = schema[top + 3 + k]!;
    if (leaf.name !== PROCESS_FIELDS[k]!.name) {
      throw new Error(`'${name}' field ${k} is '${leaf.name}'`);
    }
    return leaf;
  };
  return { path, leafOf };
}

/** Writes the column chunks of one row group (one per field, its pages) at the writer's offset. */
export function writeProcessChunks(
  writer: Writer,
  schema: SchemaElement[],
  name: string,
  codec: CompressionCodec,
  leaves: LeafPages[],
): ColumnChunk[] {
  const { path, leafOf } = leafPaths(schema, name);
  return leaves.map((leaf, k) => {
    const start = writer.offset;
    for (const page of leaf.pages) writer.appendBytes(page);
    const element = leafOf(k);
    return {
      meta_data: {
        type: element.type!,
        encodings: ["PLAIN"],
        path_in_schema: [...path.slice(1), element].map((e) => e.name),
        codec,
        num_values: BigInt(leaf.values),
        total_compressed_size: BigInt(writer.offset - start),
        total_uncompressed_size: BigInt(leaf.uncompressed),
        data_page_offset: BigInt(start),
      },
      file_offset: BigInt(start),
    };
  });
}

/** A column of n null rows (for row groups written before the column existed). */
export function nullProcessColumn(n: number): ProcessColumn {
  const c = new ProcessColumn();
  for (let i = 0; i < n; i++) c.push(null);
  return c;
}
