// The open row group as encoded pages. Each fold encodes only the rows since the last one,
// one data page per column (per field for `processes`), and keeps the bytes; the rows are
// then dropped from memory. A fold writes each column's chunk as its pages back to back,
// so neither its cost nor the tracer's memory grows with the open group (an hour of rows).
//
// Pages are plain (doubles, strings) or DELTA_BINARY_PACKED (counters, timestamps): a
// dictionary page would have to come first in a chunk, before values not seen yet.
import type {
  ColumnChunk,
  ColumnMetaData,
  CompressionCodec,
  RowGroup,
  SchemaElement,
} from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { ColumnDef } from "../schema/columns.ts";
import {
  type LeafPages,
  nullProcessColumn,
  type ProcessColumn,
  writeProcessChunks,
} from "./parquet_processes.ts";
import type { RowBuffer } from "./row_buffer.ts";
import { type Block, buildBlock, type NumericColumn } from "./summary_block.ts";

type Compressors = Record<string, (b: Uint8Array) => Uint8Array>;

/** One column's pages so far, and its chunk metadata without offsets. */
interface ScalarPages {
  pages: Uint8Array[];
  meta: ColumnMetaData;
}

export interface EncodeContext {
  schema: SchemaElement[];
  codec: CompressionCodec;
  compressors: Compressors;
  /** Bucket width of the summary block (ms); 0: none. */
  summaryWidth: number;
}

export class OpenGroup {
  /** Rows encoded. */
  readonly rows: number;
  private readonly scalars: ReadonlyMap<string, ScalarPages>;
  private readonly nested: ReadonlyMap<string, LeafPages[]>;
  /** Summary of the rows (summary_block.ts); null when one had no timestamp. */
  readonly block: Block | null;

  constructor(
    rows = 0,
    scalars: ReadonlyMap<string, ScalarPages> = new Map(),
    nested: ReadonlyMap<string, LeafPages[]> = new Map(),
    block: Block | null = null,
  ) {
    this.rows = rows;
    this.scalars = scalars;
    this.nested = nested;
    this.block = block;
  }

  /**
   * This group with `pending`'s rows appended as one more page per column (a new group: this
   * one is unchanged, so a fold that fails to write loses nothing).
   */
  append(pending: RowBuffer, columns: ColumnDef[], ctx: EncodeContext): OpenGroup {
    if (pending.length === 0) return this;
    return this.join(OpenGroup.encode(pending, columns, ctx), columns, ctx);
  }

  /** `pending`'s rows as a group of their own: one page per column. */
  static encode(pending: RowBuffer, columns: ColumnDef[], ctx: EncodeContext): OpenGroup {
    const scalars = new Map<string, ScalarPages>();
    const nested = new Map<string, LeafPages[]>();
    for (const c of columns) {
      if (c.kind === "processes") nested.set(c.name, encodeNested(pending.processes(c), c, ctx));
      else scalars.set(c.name, encodeScalar(c, pending.column(c), ctx));
    }
    return new OpenGroup(pending.length, scalars, nested, blockOf(pending, columns, ctx));
  }

  /**
   * This group followed by `next`'s pages (encoded with `columns`, which holds every column of
   * this one). A column new to this group gets a page of nulls for its earlier rows first.
   */
  join(next: OpenGroup, columns: ColumnDef[], ctx: EncodeContext): OpenGroup {
    if (next.rows === 0) return this;
    if (this.rows === 0) return next;
    const scalars = new Map(this.scalars);
    const nested = new Map(this.nested);
    for (const c of columns) {
      if (c.kind === "processes") {
        const leaves = nested.get(c.name) ?? encodeNested(nullProcessColumn(this.rows), c, ctx);
        nested.set(c.name, joinLeaves(leaves, next.nested.get(c.name)!));
        continue;
      }
      const pages = scalars.get(c.name) ?? encodeScalar(c, nullValues(c, this.rows), ctx);
      scalars.set(c.name, joinPages(pages, next.scalars.get(c.name)!));
    }
    const block = this.block && next.block ? concatBlocks(this.block, next.block) : null;
    return new OpenGroup(this.rows + next.rows, scalars, nested, block);
  }

  /** Writes the group's chunks (its pages) at the writer's offset, in `columns`' order. */
  write(
    writer: ByteWriter,
    columns: ColumnDef[],
    ctx: EncodeContext,
  ): RowGroup {
    const start = writer.offset;
    const chunks: ColumnChunk[] = [];
    let bytes = 0n;
    for (const c of columns) {
      if (c.kind === "processes") {
        const leaves = this.nested.get(c.name);
        if (!leaves) throw new Error(`no pages for column '${c.name}'`);
        const written = writeProcessChunks(writer, ctx.schema, c.name, ctx.codec, leaves);
        for (const ch of written) bytes += ch.meta_data?.total_uncompressed_size ?? 0n;
        chunks.push(...written);
        continue;
      }
      const p = this.scalars.get(c.name);
      if (!p) throw new Error(`no pages for column '${c.name}'`);
      const at = writer.offset;
      for (const page of p.pages) writer.appendBytes(page);
      chunks.push({
        meta_data: { ...p.meta, data_page_offset: BigInt(at) },
        file_offset: BigInt(at),
      });
      bytes += p.meta.total_uncompressed_size;
    }
    return {
      columns: chunks,
      num_rows: BigInt(this.rows),
      total_byte_size: bytes,
      total_compressed_size: BigInt(writer.offset - start),
    };
  }
}

/** The summary block of `pending`'s rows; null when one has no timestamp (or none wanted). */
function blockOf(pending: RowBuffer, columns: ColumnDef[], ctx: EncodeContext): Block | null {
  if (ctx.summaryWidth <= 0) return null;
  const ts = pending.numbers("timestamp");
  if (!ts || ts.nulls.some((x) => x === 1)) return null;
  const cols: NumericColumn[] = [];
  for (const c of columns) {
    if (c.kind !== "int64" && c.kind !== "double") continue;
    const v = pending.numbers(c.name);
    if (v) cols.push({ name: c.name, ...v, int: c.kind === "int64" });
  }
  return buildBlock(ctx.summaryWidth, pending.length, ts.nums, cols);
}

function encodeNested(col: ProcessColumn, c: ColumnDef, ctx: EncodeContext): LeafPages[] {
  return col.encode(ctx.schema, c.name, ctx.codec, ctx.compressors);
}

function joinLeaves(a: LeafPages[], b: LeafPages[]): LeafPages[] {
  return a.map((leaf, k) => ({
    pages: [...leaf.pages, ...b[k]!.pages],
    values: leaf.values + b[k]!.values,
    uncompressed: leaf.uncompressed + b[k]!.uncompressed,
  }));
}

function nullValues(c: ColumnDef, n: number): (bigint | null)[] {
  return new Array(n).fill(c.kind === "timestamp" ? 0n : null);
}

/** One page of `values` for column `c` (its chunk metadata, offsets left to the writer). */
function encodeScalar(
  c: ColumnDef,
  values: (bigint | number | string | null)[],
  ctx: EncodeContext,
): ScalarPages {
  const out = new ByteWriter(1024);
  const pw = new ParquetWriter({
    writer: out,
    schema: ctx.schema,
    codec: ctx.codec,
    compressors: ctx.compressors,
  });
  const start = out.offset; // after the magic
  pw.write({
    columnData: [{
      name: c.name,
      data: values,
      offsetIndex: false,
      // Counters and timestamps grow steadily: deltas make them a few bits a row.
      encoding: c.kind === "int64" || c.kind === "timestamp" ? "DELTA_BINARY_PACKED" : "PLAIN",
    }],
    rowGroupSize: values.length,
    pageSize: 0,
  });
  const chunk = pw.row_groups.pop()!.columns[0]!;
  const meta = chunk.meta_data!;
  if (meta.dictionary_page_offset !== undefined) throw new Error("a dictionary page in a fold");
  return { pages: [out.getBytes().slice(start)], meta: { ...meta, data_page_offset: 0n } };
}

/** Pages of a column followed by more of its pages: sizes added, statistics merged. */
function joinPages(a: ScalarPages, b: ScalarPages): ScalarPages {
  const x = a.meta, y = b.meta;
  const sx = x.statistics, sy = y.statistics;
  const pick = (u: unknown, v: unknown, less: boolean) => {
    if (u === undefined || u === null) return v;
    if (v === undefined || v === null) return u;
    const order = compare(v, u);
    return (less ? order < 0 : order > 0) ? v : u;
  };
  const statistics = sx && sy
    ? {
      ...sx,
      min_value: pick(sx.min_value, sy.min_value, true),
      max_value: pick(sx.max_value, sy.max_value, false),
      null_count: (sx.null_count ?? 0n) + (sy.null_count ?? 0n),
      ...(nanCount(sx) !== undefined ? { nan_count: nanCount(sx)! + (nanCount(sy) ?? 0n) } : {}),
    } as typeof sx
    : undefined;
  const pageCount = (m: ColumnMetaData) => m.encoding_stats?.reduce((s, e) => s + e.count, 0) ?? 1;
  return {
    pages: [...a.pages, ...b.pages],
    meta: {
      ...x,
      num_values: x.num_values + y.num_values,
      total_uncompressed_size: x.total_uncompressed_size + y.total_uncompressed_size,
      total_compressed_size: x.total_compressed_size + y.total_compressed_size,
      statistics,
      encoding_stats: x.encoding_stats
        ? [{ ...x.encoding_stats[0]!, count: pageCount(x) + pageCount(y) }]
        : undefined,
    },
  };
}

/** Statistics order: numbers as numbers, strings by their UTF-8 bytes (as Parquet orders them). */
function compare(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") {
    const x = utf8.encode(a), y = utf8.encode(b);
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

const utf8 = new TextEncoder();

function nanCount(s: object): bigint | undefined {
  const n = (s as { nan_count?: unknown }).nan_count;
  return typeof n === "bigint" ? n : undefined;
}

/** Buckets of `a` then of `b` (a bucket split between them appears twice; readers merge). */
function concatBlocks(a: Block, b: Block): Block {
  const cat = (x: Float64Array, y: Float64Array) => {
    const out = new Float64Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const ka = a.b.length, kb = b.b.length;
  const names = [...new Set([...a.columns.map((c) => c.name), ...b.columns.map((c) => c.name)])];
  const none = (k: number) => ({
    lo: new Float64Array(k).fill(NaN),
    hi: new Float64Array(k).fill(NaN),
    maxFirst: new Uint8Array(k),
  });
  return {
    b: cat(a.b, b.b),
    n: cat(a.n, b.n),
    t0: cat(a.t0, b.t0),
    t1: cat(a.t1, b.t1),
    columns: names.map((name) => {
      const x = a.columns.find((c) => c.name === name) ?? none(ka);
      const y = b.columns.find((c) => c.name === name) ?? none(kb);
      const order = new Uint8Array(ka + kb);
      order.set(x.maxFirst);
      order.set(y.maxFirst, ka);
      return { name, lo: cat(x.lo, y.lo), hi: cat(x.hi, y.hi), maxFirst: order };
    }),
  };
}
