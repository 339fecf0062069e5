// The tracer's summary blocks (src/store/summary_block.ts) as a reduce.ts Summary: a long
// sysmon trace is drawn whole from its buckets on the first request, with no scan.
//
// Blocks hold stored times (wall time for local traces). A bucket moves to instants
// whole when the zone's offset at its first and last row is the same multiple of the
// width; otherwise (an odd historical offset) the file's summary is not used for that
// zone and `serve` scans, as for any other file.
import * as zlib from "node:zlib";
import { decodeBlock, type DecodedBlock, type SummaryIndex } from "../store/summary_block.ts";
import type { Summary, SummaryColumn } from "./reduce.ts";

/** Reads `length` bytes at `offset` of the version's file. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

/**
 * Every block read once and merged into one Summary of the columns asked for (`name` as
 * shown, `source` as stored), in instants (`toInstant`: the zone's wall time to epoch ms).
 * Null when a row group has no block (written by an older sysmon) or the zone's offsets
 * split buckets; throws when a block is damaged. `rows`: the rows the blocks count.
 */
export function readFileSummary(
  index: SummaryIndex,
  read: ReadAt,
  toInstant: (wall: number) => number,
  cols: { name: string; source: string }[],
): { summary: Summary; rows: number } | null {
  if (index.blocks.length === 0 || index.blocks.some((b) => b === null)) return null;
  const blocks = index.blocks.map((_, i) => readBlock(index, read, i));
  const merged = mergeBuckets(blocks, index.width, toInstant);
  if (!merged) return null;
  const { summary, at, t0, t1 } = merged;
  const m = summary.buckets.b.length;
  // Only the columns the blocks hold, all in one buffer, viewed on use: a short file's
  // arrays are a few hundred bytes each, and an ArrayBuffer or a view apiece costs more than
  // its values (278 hourly files: 120,000 of them).
  const present = new Set(blocks.flatMap((b) => b.names));
  const held = cols.filter((c) => present.has(c.source));
  const store = new Float64Array(4 * m * held.length).fill(NaN);
  const out: SummaryColumn[] = held.map((_, i) => new StoredColumn(store, 4 * i * m, m));
  const wanted = new Map(held.map((c, i) => [c.source, i]));
  let k = 0;
  for (const block of blocks) {
    const nb = block.b.length, values = block.values, order = block.order;
    for (let c = 0; c < block.names.length; c++) {
      const ci = wanted.get(block.names[c]!);
      if (ci === undefined) continue;
      const { lo, hi, tlo, thi } = out[ci]!;
      for (let j = 0; j < nb; j++) {
        const a = at[k + j]!, l = values[2 * c * nb + j]!, h = values[(2 * c + 1) * nb + j]!;
        const first = t0[k + j]!, last = t1[k + j]!;
        const maxFirst = order[c * nb + j] === 1;
        // An extreme's time is the first or last row of its bucket, by their order.
        if (!Number.isNaN(l) && !(l >= lo[a]!)) (lo[a] = l), (tlo[a] = maxFirst ? last : first);
        if (!Number.isNaN(h) && !(h <= hi[a]!)) (hi[a] = h), (thi[a] = maxFirst ? first : last);
      }
    }
    k += block.b.length;
  }
  held.forEach((c, i) => summary.columns.set(c.name, out[i]!));
  const rows = summary.buckets.n.reduce((a, n) => a + n, 0);
  return { summary, rows };
}

/** A column's lo, hi, tlo and thi, one after another in a shared buffer. */
class StoredColumn implements SummaryColumn {
  constructor(
    private readonly store: Float64Array,
    private readonly at: number,
    private readonly m: number,
  ) {}
  private part(k: number) {
    return this.store.subarray(this.at + k * this.m, this.at + (k + 1) * this.m);
  }
  get lo() {
    return this.part(0);
  }
  get hi() {
    return this.part(1);
  }
  get tlo() {
    return this.part(2);
  }
  get thi() {
    return this.part(3);
  }
}

/**
 * Buckets in instants, merged where blocks (or a clock stepped back) repeat one; per
 * block bucket (in order) the merged bucket it went to and its own first and last time.
 */
function mergeBuckets(blocks: DecodedBlock[], w: number, toInstant: (wall: number) => number) {
  const total = blocks.reduce((sum, b) => sum + b.b.length, 0);
  const b = new Float64Array(total), t0 = new Float64Array(total), t1 = new Float64Array(total);
  const n = new Float64Array(total);
  let k = 0;
  for (const block of blocks) {
    for (let j = 0; j < block.b.length; j++, k++) {
      const off = block.t0[j]! - toInstant(block.t0[j]!);
      if (off % w !== 0 || block.t1[j]! - toInstant(block.t1[j]!) !== off) return null;
      b[k] = block.b[j]! - off / w;
      t0[k] = block.t0[j]! - off;
      t1[k] = block.t1[j]! - off;
      n[k] = block.n[j]!;
    }
  }
  // Merge in bucket order (stable: equal buckets keep row order).
  const order = Array.from({ length: total }, (_, i) => i);
  if (b.some((x, i) => i > 0 && x < b[i - 1]!)) order.sort((i, j) => b[i]! - b[j]! || i - j);
  const at = new Int32Array(total);
  const mb: number[] = [], mn: number[] = [], m0: number[] = [], m1: number[] = [];
  for (const i of order) {
    const last = mb.length - 1;
    if (last >= 0 && mb[last] === b[i]) {
      mn[last]! += n[i]!;
      m0[last] = Math.min(m0[last]!, t0[i]!);
      m1[last] = Math.max(m1[last]!, t1[i]!);
    } else mb.push(b[i]!), mn.push(n[i]!), m0.push(t0[i]!), m1.push(t1[i]!);
    at[i] = mb.length - 1;
  }
  const f = (a: number[]) => Float64Array.from(a);
  const summary: Summary = {
    width: w,
    buckets: { b: f(mb), n: f(mn), t0: f(m0), t1: f(m1) },
    columns: new Map(),
  };
  return { summary, at, t0, t1 };
}

function readBlock(index: SummaryIndex, read: ReadAt, i: number): DecodedBlock {
  const [offset, length] = index.blocks[i]!;
  const block = decodeBlock(decompress(index.codec, read(offset, length)));
  if (block.b.length === 0) throw new Error("a summary block has no buckets");
  return block;
}

function decompress(codec: string, bytes: Uint8Array): Uint8Array {
  let out: Uint8Array;
  switch (codec) {
    case "UNCOMPRESSED":
      return bytes;
    case "ZSTD":
      out = (zlib as unknown as { zstdDecompressSync(b: Uint8Array): Uint8Array })
        .zstdDecompressSync(bytes);
      break;
    case "GZIP":
      out = zlib.gunzipSync(bytes) as unknown as Uint8Array;
      break;
    default:
      throw new Error(`summary blocks compressed with ${codec}, which sysmon cannot read`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength); // a view, not a copy
}
