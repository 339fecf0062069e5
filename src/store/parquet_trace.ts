// A Parquet trace that grows without re-encoding its past.
//
// Layout: PAR1 | sealed row groups | open row group | footer. Each fold copies the
// sealed bytes (in the kernel), encodes the rows since the last fold as one more page per
// column of the open row group (whose earlier pages are kept encoded: open_group.ts),
// writes a new footer, then fsyncs and renames over the file, so the file on disk is
// always complete. When the open group reaches `rowGroupRows` it is sealed.
import type {
  ColumnChunk,
  CompressionCodec,
  FileMetaData,
  KeyValue,
  RowGroup,
  SchemaElement,
} from "hyparquet";
import { parquetMetadata } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import * as zlib from "node:zlib";
import { type ColumnDef, type Row, sortColumns } from "../schema/columns.ts";
import { columnsFromSchema, schemaElements } from "./parquet_schema.ts";
import { RowBuffer } from "./row_buffer.ts";
import { nullProcessColumn, writeProcessChunks } from "./parquet_processes.ts";
import { OpenGroup } from "./open_group.ts";
import { rowGroupBytes, writeFooter } from "./footer.ts";
import { replaceAtomically } from "./atomic.ts";
import {
  type Block,
  encodeBlock,
  parseSummaryIndex,
  SUMMARY_KEY,
  type SummaryIndex,
  summaryWidthFor,
} from "./summary_block.ts";

export interface ParquetTraceOptions {
  path: string;
  /** Timestamps are UTC instants (true) or local wall time (false). */
  utc: boolean;
  /** Rows per sealed row group. */
  rowGroupRows?: number;
  codec?: CompressionCodec;
  /** Bucket width (ms) of the summary blocks (summary_block.ts); 0 writes none. */
  summaryWidth?: number;
}

interface Sealed {
  /** Bytes of the file that stay as they are: magic and sealed row groups. */
  end: number;
  /** The sealed groups' footer entries, serialised (footer.ts), and how many. */
  footer: Uint8Array;
  count: number;
  /** Columns every sealed group has. */
  names: Set<string>;
  rows: number;
  /** Per sealed group: where its summary block is (null: none). */
  blocks: ([number, number] | null)[];
}

const MAGIC = 0x31524150; // "PAR1"

// zstd is in Deno's node:zlib; older @types/node (pulled in by DuckDB's deps) lacks it.
const { zstdCompressSync } = zlib as unknown as {
  zstdCompressSync(b: Uint8Array, o: { pledgedSrcSize: number }): Uint8Array;
};

const compressors = {
  // The size up front lets zstd size its tables to the page (a few KB), not to its 2 MB
  // window: about 4 MiB less resident memory at a fold's peak.
  // A copy: the result may be a view of a larger buffer, and pages are kept for an hour.
  ZSTD: (b: Uint8Array) => new Uint8Array(zstdCompressSync(b, { pledgedSrcSize: b.length })),
  GZIP: (b: Uint8Array) => new Uint8Array(zlib.gzipSync(b)),
};

export class ParquetTrace {
  readonly path: string;
  readonly utc: boolean;
  readonly rowGroupRows: number;
  readonly codec: CompressionCodec;
  summaryWidth: number;
  /** Codec of the summary blocks: the file's, when continuing one. */
  private blockCodec: string;
  columns: ColumnDef[] = [];
  /** Rows since the last fold. */
  private pending = new RowBuffer();
  /** Rows of the open row group folded so far, as encoded pages. */
  private open = new OpenGroup();
  private sealed: Sealed = noneSealed();
  private known = new Set<string>();
  /** Inode of the file this trace last wrote, to notice a file replaced behind its back. */
  private inode: number | null = null;
  private foldedColumns = -1;

  constructor(opts: ParquetTraceOptions) {
    this.path = opts.path;
    this.utc = opts.utc;
    this.rowGroupRows = opts.rowGroupRows ?? 3600;
    this.codec = opts.codec ?? "ZSTD";
    this.blockCodec = this.codec;
    this.summaryWidth = opts.summaryWidth ?? summaryWidthFor(1);
  }

  /** Rows in sealed row groups. */
  get sealedRows(): number {
    return this.sealed.rows;
  }

  /** Rows in the file as of the last fold: sealed, and folded into the open group. */
  get foldedRows(): number {
    return this.sealed.rows + this.open.rows;
  }

  /** Rows in the open row group as of the last fold (in this file, or some in pieces). */
  get openRows(): number {
    return this.open.rows;
  }

  /** Sealed row groups. */
  get sealedCount(): number {
    return this.sealed.count;
  }

  /** Rows not folded yet. */
  get unfoldedCount(): number {
    return this.pending.length;
  }

  /** Unfolded row i (row foldedRows + i of the trace) as a record. */
  unfoldedRow(i: number): Row {
    return this.pending.row(i);
  }

  /** Rows in the trace: folded and not. */
  get rows(): number {
    return this.foldedRows + this.pending.length;
  }

  /** Continues a file sysmon wrote earlier: its row groups become sealed. */
  static open(opts: ParquetTraceOptions): ParquetTrace {
    const trace = new ParquetTrace(opts);
    const { meta, footerStart, inode } = readFooter(opts.path);
    const found = columnsFromSchema(meta.schema);
    if ("unsupported" in found) {
      throw new Error(
        `${opts.path}: column '${found.unsupported}' has a type sysmon does not append to`,
      );
    }
    const defs = found.defs;
    trace.columns = defs;
    for (const d of defs) trace.known.add(d.name);
    const kv = meta.key_value_metadata ?? [];
    const index = parseSummaryIndex(kv.find((e) => e.key === SUMMARY_KEY)?.value);
    // Blocks keep the width they were written with; groups written without one get none.
    if (index) (trace.summaryWidth = index.width), (trace.blockCodec = index.codec);
    const blocks = meta.row_groups.map((_, i) => index?.blocks[i] ?? null);
    const names = defs.map((d) => d.name).filter((name) =>
      meta.row_groups.every((g) => g.columns.some((c) => c.meta_data?.path_in_schema[0] === name))
    );
    trace.sealed = {
      end: footerStart,
      footer: rowGroupBytes(schemaOf(defs, opts.utc), meta.row_groups),
      count: meta.row_groups.length,
      names: new Set(names),
      rows: Number(meta.num_rows),
      blocks,
    };
    trace.inode = inode;
    return trace;
  }

  /** Adds rows to the open row group; new column names extend the schema. */
  add(rows: Row[], defs: (name: string) => ColumnDef) {
    for (const row of rows) {
      for (const name in row) {
        if (!this.known.has(name)) {
          this.known.add(name);
          this.columns = sortColumns([...this.columns, defs(name)]);
        }
      }
      this.pending.push(row, defs);
    }
  }

  /**
   * Drops the oldest unfolded rows (memory bound while writes fail); returns how many. Rows
   * already folded are in the file, and in memory only as pages.
   */
  dropOldest(keep: number): number {
    const drop = Math.max(0, this.pending.length - keep);
    this.pending.dropFirst(drop);
    return drop;
  }

  /**
   * Writes the file (atomically) with every row added so far. Returns false when
   * there was nothing new. Seals the open row group once it is full.
   */
  fold(metadata: Record<string, string>): boolean {
    if (
      this.pending.length === 0 && this.columns.length === this.foldedColumns && !this.inPieces
    ) return false;
    let base = this.sealed.end;
    if (base > 0 && !this.sameFile()) {
      // The file was removed or replaced: what it held is not ours to copy.
      this.sealed = noneSealed();
      base = 0;
      this.lostFile = true;
    }
    const schema = schemaOf(this.columns, this.utc);
    const out = new ByteWriter(64 * 1024);
    // Writes the magic, and null chunks for sealed groups (fillMissingColumns).
    const pw = new ParquetWriter({ writer: out, schema, codec: this.codec, compressors });
    if (base > 0) {
      out.index = 0; // the magic is already in the sealed bytes
      out.offset = base;
    }
    let { footer: sealedFooter, names } = this.sealed;
    if (this.sealed.count > 0 && this.columns.some((c) => !names.has(c.name))) {
      // A new column: the sealed groups get null chunks for it (their entries read back
      // from the file, which sameFile() says is ours).
      const groups = readFooter(this.path).meta.row_groups.slice(0, this.sealed.count)
        .map((g) => ({ ...g, columns: [...g.columns] }));
      this.fillMissingColumns(pw, groups);
      sealedFooter = rowGroupBytes(schema, groups);
      names = new Set(this.columns.map((c) => c.name));
    }
    const sealedEnd = out.offset;
    const ctx = this.context(schema);
    const next = this.open.append(this.pending, this.columns, ctx);
    const open = next.rows > 0 ? [next.write(out, this.columns, ctx)] : [];
    const openBlock = next.rows > 0 ? this.writeBlock(out, next.block) : null;
    const openEnd = out.offset;
    const blocks = next.rows > 0 ? [...this.sealed.blocks, openBlock] : this.sealed.blocks;
    const kv = this.keyValues(metadata, blocks);
    const openFooter = rowGroupBytes(schema, open);
    writeFooter(out, {
      schema,
      numRows: BigInt(this.sealed.rows + next.rows),
      kv,
      createdBy: `sysmon ${metadata["sysmon.version"] ?? ""}`.trim(),
    }, [{ bytes: sealedFooter, count: this.sealed.count }, {
      bytes: openFooter,
      count: open.length,
    }]);
    this.inode = replaceAtomically(this.path, out.getBytes(), base);

    this.sealed = { ...this.sealed, end: sealedEnd, footer: sealedFooter, names };
    this.open = next;
    this.pending.clear();
    if (next.rows >= this.rowGroupRows) {
      const footer = new Uint8Array(sealedFooter.length + openFooter.length);
      footer.set(sealedFooter);
      footer.set(openFooter, sealedFooter.length);
      this.sealed = {
        end: openEnd,
        footer,
        count: this.sealed.count + 1,
        names,
        rows: this.sealed.rows + next.rows,
        blocks,
      };
      this.open = new OpenGroup();
    }
    this.foldedColumns = this.columns.length;
    this.inPieces = false;
    return true;
  }

  /** Set while rows of the open group are in pieces only, not in this file yet. */
  private inPieces = false;

  /**
   * Writes the rows since the last fold as a file of their own at `path` (a piece: one row
   * group), leaving this file as it is: a fold's cost stays the size of its new rows. They
   * join the open group, and the next fold() writes them into this file too. Returns false
   * when there was nothing new.
   */
  foldPiece(metadata: Record<string, string>, path: string): boolean {
    if (this.pending.length === 0) return false;
    const schema = schemaOf(this.columns, this.utc);
    const ctx = this.context(schema);
    const piece = OpenGroup.encode(this.pending, this.columns, ctx);
    const out = new ByteWriter(64 * 1024);
    new ParquetWriter({ writer: out, schema, codec: this.codec, compressors }); // the magic
    const group = piece.write(out, this.columns, ctx);
    const block = this.writeBlock(out, piece.block);
    writeFooter(out, {
      schema,
      numRows: BigInt(piece.rows),
      kv: this.keyValues(metadata, [block]),
      createdBy: `sysmon ${metadata["sysmon.version"] ?? ""}`.trim(),
    }, [{ bytes: rowGroupBytes(schema, [group]), count: 1 }]);
    replaceAtomically(path, out.getBytes());
    this.open = this.open.join(piece, this.columns, ctx);
    this.pending.clear();
    this.inPieces = true;
    return true;
  }

  private context(schema: SchemaElement[]) {
    return {
      schema,
      codec: this.codec,
      compressors: compressors as Record<string, (b: Uint8Array) => Uint8Array>,
      summaryWidth: this.summaryWidth,
    };
  }

  /** The footer's key-value metadata: `metadata` and the index of the summary blocks. */
  private keyValues(
    metadata: Record<string, string>,
    blocks: ([number, number] | null)[],
  ): KeyValue[] {
    const kv: KeyValue[] = Object.entries(metadata)
      .filter(([key]) => key !== SUMMARY_KEY) // an index copied from another file
      .map(([key, value]) => ({ key, value }));
    if (this.summaryWidth > 0) {
      const index: SummaryIndex = {
        format: 1,
        width: this.summaryWidth,
        codec: this.blockCodec,
        blocks,
      };
      kv.push({ key: SUMMARY_KEY, value: JSON.stringify(index) });
    }
    return kv;
  }

  /** Set when a fold found its file gone or replaced and started it afresh. */
  lostFile = false;

  /** Writes the open group's summary block (summary_block.ts); where it is, or null. */
  private writeBlock(out: ByteWriter, block: Block | null): [number, number] | null {
    if (this.summaryWidth <= 0 || block === null) return null;
    const raw = encodeBlock(block);
    const compress = this.blockCodec === "UNCOMPRESSED"
      ? (b: Uint8Array) => b
      : (compressors as Record<string, (b: Uint8Array) => Uint8Array>)[this.blockCodec];
    if (!compress) return null;
    const bytes = compress(raw);
    const at = out.offset;
    out.appendBytes(bytes);
    return [at, bytes.length];
  }

  /**
   * Sealed groups written before a column existed get an all-null chunk for it (one per
   * leaf for `processes`: each leaf's chunk is matched by the first name of its path).
   */
  private fillMissingColumns(pw: ParquetWriter, groups: RowGroup[]) {
    const order = new Map(this.columns.map((c, i) => [c.name, i]));
    const pos = (c: ColumnChunk) => order.get(c.meta_data?.path_in_schema[0] ?? "") ?? -1;
    for (const g of groups) {
      const have = new Set(g.columns.map((c) => c.meta_data?.path_in_schema[0]));
      const missing = this.columns.filter((c) => !have.has(c.name));
      if (missing.length === 0) continue;
      const n = Number(g.num_rows);
      const filled: ColumnChunk[] = [];
      const scalars = missing.filter((c) => c.kind !== "processes");
      if (scalars.length > 0) {
        pw.write({
          columnData: scalars.map((c) => ({
            name: c.name,
            data: new Array(n).fill(c.kind === "timestamp" ? 0n : null),
            offsetIndex: false,
          })),
          rowGroupSize: n,
        });
        filled.push(...pw.row_groups.pop()!.columns);
      }
      for (const c of missing.filter((c) => c.kind === "processes")) {
        const leaves = nullProcessColumn(n).encode(pw.schema, c.name, this.codec, pw.compressors);
        filled.push(...writeProcessChunks(pw.writer, pw.schema, c.name, this.codec, leaves));
      }
      g.columns = [...g.columns, ...filled].sort((a, b) => pos(a) - pos(b));
    }
  }

  private sameFile(): boolean {
    try {
      const st = Deno.statSync(this.path);
      return st.size >= this.sealed.end && (this.inode === null || st.ino === this.inode);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
  }
}

function noneSealed(): Sealed {
  return { end: 0, footer: new Uint8Array(0), count: 0, names: new Set(), rows: 0, blocks: [] };
}

function schemaOf(columns: ColumnDef[], utc: boolean): SchemaElement[] {
  return [
    { name: "root", num_children: columns.length },
    ...columns.flatMap((c) => schemaElements(c, utc)),
  ];
}

/** Reads only the footer of a Parquet file. */
export function readFooter(path: string) {
  const file = Deno.openSync(path);
  try {
    const st = file.statSync();
    const { meta, footerStart } = footerOf(path, st.size, (length, position) => {
      const buf = new Uint8Array(length);
      file.seekSync(position, Deno.SeekMode.Start);
      readFull(file, buf);
      return buf;
    });
    return { meta, footerStart, inode: st.ino, size: st.size };
  } finally {
    file.close();
  }
}

/**
 * The footer of a Parquet file of `size` bytes, read through `read(length, position)`; says
 * what is wrong with a file that is not one (too short, no PAR1, a footer longer than it).
 */
export function footerOf(
  name: string,
  size: number,
  read: (length: number, position: number) => Uint8Array,
): { meta: FileMetaData; footerStart: number } {
  if (size < 12) throw new Error(`${name} is not a Parquet file (${size} bytes)`);
  const view = new DataView(read(8, size - 8).buffer);
  if (view.getUint32(4, true) !== MAGIC) {
    throw new Error(`${name} is not a Parquet file (no PAR1 footer; truncated or another format)`);
  }
  const len = view.getUint32(0, true);
  if (len + 12 > size) throw new Error(`${name}: footer length ${len} exceeds the file`);
  const footerStart = size - 8 - len;
  return { meta: parquetMetadata(read(len + 8, footerStart).slice().buffer), footerStart };
}

function readFull(file: Deno.FsFile, buf: Uint8Array) {
  let off = 0;
  while (off < buf.length) {
    const n = file.readSync(buf.subarray(off));
    if (n === null) throw new Error("unexpected end of file");
    off += n;
  }
}
