// A Parquet trace that grows without re-encoding its past.
//
// Layout: PAR1 | sealed row groups | open row group | footer. Each fold copies the
// sealed bytes (in the kernel), encodes only the open row group (the rows since the
// last seal), writes a new footer, then fsyncs and renames over the file, so the file
// on disk is always complete. When the open group reaches `rowGroupRows` it is sealed.
import type { ColumnChunk, CompressionCodec, KeyValue, RowGroup, SchemaElement } from "hyparquet";
import { parquetMetadata } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import * as zlib from "node:zlib";
import { type ColumnDef, type Row, sortColumns } from "./columns.ts";
import { columnsFromSchema, schemaElements } from "./parquet_schema.ts";
import { RowBuffer } from "./row_buffer.ts";
import { nullProcessColumn } from "./parquet_processes.ts";
import { replaceAtomically } from "./atomic.ts";
import {
  buildBlock,
  encodeBlock,
  type NumericColumn,
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
  groups: RowGroup[];
  rows: number;
  /** Per sealed group: where its summary block is (null: none). */
  blocks: ([number, number] | null)[];
}

const MAGIC = 0x31524150; // "PAR1"

// zstd is in Deno's node:zlib; older @types/node (pulled in by DuckDB's deps) lacks it.
const { zstdCompressSync } = zlib as unknown as { zstdCompressSync(b: Uint8Array): Uint8Array };

const compressors = {
  ZSTD: (b: Uint8Array) => new Uint8Array(zstdCompressSync(b)),
  GZIP: (b: Uint8Array) => new Uint8Array(zlib.gzipSync(b)),
};

export class ParquetTrace {
  readonly path: string;
  readonly utc: boolean;
  readonly rowGroupRows: number;
  readonly codec: CompressionCodec;
  summaryWidth: number;
  columns: ColumnDef[] = [];
  /** Rows of the open row group, in memory until sealed. */
  private pending = new RowBuffer();
  private sealed: Sealed = { end: 0, groups: [], rows: 0, blocks: [] };
  private known = new Set<string>();
  /** Inode of the file this trace last wrote, to notice a file replaced behind its back. */
  private inode: number | null = null;
  private foldedRows = -1;
  private foldedColumns = -1;

  constructor(opts: ParquetTraceOptions) {
    this.path = opts.path;
    this.utc = opts.utc;
    this.rowGroupRows = opts.rowGroupRows ?? 3600;
    this.codec = opts.codec ?? "ZSTD";
    this.summaryWidth = opts.summaryWidth ?? summaryWidthFor(1);
  }

  /** Rows in sealed row groups. */
  get sealedRows(): number {
    return this.sealed.rows;
  }

  /** Rows of the open row group. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Open row i as a record. */
  pendingRow(i: number): Row {
    return this.pending.row(i);
  }

  /** Open rows already in the file (as of the last fold). */
  get foldedPending(): number {
    return Math.max(0, this.foldedRows);
  }

  /** Rows in the trace: sealed and open. */
  get rows(): number {
    return this.sealed.rows + this.pending.length;
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
    if (index) trace.summaryWidth = index.width;
    const blocks = meta.row_groups.map((_, i) => index?.blocks[i] ?? null);
    trace.sealed = {
      end: footerStart,
      groups: meta.row_groups,
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

  /** Drops the oldest open rows (memory bound while writes fail); returns how many. */
  dropOldest(keep: number): number {
    const drop = Math.max(0, this.pending.length - keep);
    this.pending.dropFirst(drop);
    if (drop > 0) this.foldedRows = -1; // the file's open group no longer matches
    return drop;
  }

  /**
   * Writes the file (atomically) with every row added so far. Returns false when
   * there was nothing new. Seals the open row group once it is full.
   */
  fold(metadata: Record<string, string>): boolean {
    if (this.pending.length === this.foldedRows && this.columns.length === this.foldedColumns) {
      return false;
    }
    let base = this.sealed.end;
    if (base > 0 && !this.sameFile()) {
      // The file was removed or replaced: what it held is not ours to copy.
      this.sealed = { end: 0, groups: [], rows: 0, blocks: [] };
      base = 0;
      this.lostFile = true;
    }
    const schema: SchemaElement[] = [
      { name: "root", num_children: this.columns.length },
      ...this.columns.flatMap((c) => schemaElements(c, this.utc)),
    ];
    const out = new ByteWriter(64 * 1024);
    const pw = new ParquetWriter({
      writer: out,
      schema,
      codec: this.codec,
      compressors,
      kvMetadata: [],
      createdBy: `sysmon ${metadata["sysmon.version"] ?? ""}`.trim(),
    });
    if (base > 0) {
      out.index = 0; // the magic is already in the sealed bytes
      out.offset = base;
    }
    const groups = this.sealed.groups.map((g) => ({ ...g, columns: [...g.columns] }));
    this.fillMissingColumns(pw, groups);
    const sealedEnd = out.offset;
    const open = this.pending.length > 0 ? [this.encodeOpenGroup(pw)] : [];
    const openBlock = this.pending.length > 0 ? this.writeBlock(out) : null;
    const openEnd = out.offset;
    const blocks = this.pending.length > 0
      ? [...this.sealed.blocks, openBlock]
      : this.sealed.blocks;
    const kv: KeyValue[] = Object.entries(metadata)
      .filter(([key]) => key !== SUMMARY_KEY) // an index copied from another file
      .map(([key, value]) => ({ key, value }));
    if (this.summaryWidth > 0) {
      const index: SummaryIndex = {
        format: 1,
        width: this.summaryWidth,
        codec: this.codec,
        blocks,
      };
      kv.push({ key: SUMMARY_KEY, value: JSON.stringify(index) });
    }
    pw.kvMetadata = kv;
    pw.row_groups = this.pending.length > 0 ? [...groups, ...open] : groups;
    pw.num_rows = BigInt(this.rows);
    pw.finish();
    this.inode = replaceAtomically(this.path, out.getBytes(), base);

    this.sealed = { ...this.sealed, end: sealedEnd, groups };
    if (this.pending.length >= this.rowGroupRows) {
      this.sealed = {
        end: openEnd,
        groups: [...groups, ...open],
        rows: this.sealed.rows + this.pending.length,
        blocks,
      };
      this.pending.clear();
    }
    this.foldedRows = this.pending.length;
    this.foldedColumns = this.columns.length;
    return true;
  }

  /** Set when a fold found its file gone or replaced and started it afresh. */
  lostFile = false;

  /** Writes the open rows' summary block (summary_block.ts); where it is, or null. */
  private writeBlock(out: ByteWriter): [number, number] | null {
    if (this.summaryWidth <= 0) return null;
    const ts = this.pending.numbers("timestamp");
    if (!ts || ts.nulls.some((x) => x === 1)) return null;
    const cols: NumericColumn[] = [];
    for (const c of this.columns) {
      if (c.kind !== "int64" && c.kind !== "double") continue;
      const v = this.pending.numbers(c.name);
      if (v) cols.push({ name: c.name, ...v, int: c.kind === "int64" });
    }
    const raw = encodeBlock(buildBlock(this.summaryWidth, this.pending.length, ts.nums, cols));
    const compress = this.codec === "UNCOMPRESSED"
      ? (b: Uint8Array) => b
      : (compressors as Record<string, (b: Uint8Array) => Uint8Array>)[this.codec];
    if (!compress) return null;
    const bytes = compress(raw);
    const at = out.offset;
    out.appendBytes(bytes);
    return [at, bytes.length];
  }

  /**
   * Encodes the open rows one column at a time (each column's temporary arrays are
   * garbage before the next is built) and joins the chunks into one row group.
   */
  private encodeOpenGroup(pw: ParquetWriter): RowGroup {
    const n = this.pending.length;
    const start = pw.writer.offset;
    const columns: ColumnChunk[] = [];
    let bytes = 0n;
    for (const c of this.columns) {
      if (c.kind === "processes") {
        const chunks = this.pending.processes(c).writeChunks(
          pw.writer,
          pw.schema,
          c.name,
          this.codec,
          pw.compressors,
        );
        columns.push(...chunks);
        for (const ch of chunks) bytes += ch.meta_data?.total_uncompressed_size ?? 0n;
        continue;
      }
      pw.write({
        columnData: [{
          name: c.name,
          data: this.pending.column(c),
          offsetIndex: false,
          // Counters and timestamps grow steadily: deltas make them a few bits a row.
          ...(c.kind === "int64" || c.kind === "timestamp"
            ? { encoding: "DELTA_BINARY_PACKED" as const }
            : {}),
        }],
        rowGroupSize: n,
      });
      const part = pw.row_groups.pop()!;
      columns.push(...part.columns);
      bytes += part.total_byte_size;
    }
    return {
      columns,
      num_rows: BigInt(n),
      total_byte_size: bytes,
      total_compressed_size: BigInt(pw.writer.offset - start),
    };
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
        const nulls = nullProcessColumn(n);
        filled.push(...nulls.writeChunks(pw.writer, pw.schema, c.name, this.codec, pw.compressors));
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

/** Reads only the footer of a Parquet file. */
export function readFooter(path: string) {
  const file = Deno.openSync(path);
  try {
    const st = file.statSync();
    if (st.size < 12) throw new Error(`${path} is not a Parquet file (${st.size} bytes)`);
    const tail = new Uint8Array(8);
    file.seekSync(st.size - 8, Deno.SeekMode.Start);
    readFull(file, tail);
    const view = new DataView(tail.buffer);
    if (view.getUint32(4, true) !== MAGIC) {
      throw new Error(
        `${path} is not a Parquet file (no PAR1 footer; truncated or another format)`,
      );
    }
    const len = view.getUint32(0, true);
    if (len + 12 > st.size) throw new Error(`${path}: footer length ${len} exceeds the file`);
    const buf = new Uint8Array(len + 8);
    file.seekSync(st.size - 8 - len, Deno.SeekMode.Start);
    readFull(file, buf);
    const meta = parquetMetadata(buf.buffer);
    return { meta, footerStart: st.size - 8 - len, inode: st.ino, size: st.size };
  } finally {
    file.close();
  }
}

function readFull(file: Deno.FsFile, buf: Uint8Array) {
  let off = 0;
  while (off < buf.length) {
    const n = file.readSync(buf.subarray(off));
    if (n === null) throw new Error("unexpected end of file");
    off += n;
  }
}
