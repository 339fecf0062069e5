// Per-bucket extremes of every numeric column, written by the tracer beside each row group,
// so that `serve` draws a long trace from a few thousand buckets instead of reading every
// row (a million-row column costs DuckDB-WASM 1.28 about 80 ms to scan).
//
// A bucket is `floor(t / width)` of the stored time t (ms; wall time for local traces), the
// same buckets `serve` builds with a scan (src/query/reduce.ts), so merging them gives exactly
// the answer a scan gives. Each column keeps per bucket its minimum, maximum and which of
// the two came first (enough to draw them in order).
//
// Layout of a block, before compression (little endian):
//   u32 header length | header JSON {"buckets": k, "columns": [names]} | pad to 8 |
//   f64 b[k] n[k] t0[k] t1[k] | per column f64 lo[k] hi[k] | per column u8 maxFirst[k]
// Where each row group's block lies is in the key-value metadata `sysmon.summary`:
//   {"format": 1, "width": ms, "codec": "ZSTD" | "GZIP" | "UNCOMPRESSED",
//    "blocks": [[offset, length] | null per row group]}

export const SUMMARY_KEY = "sysmon.summary";

/** The index in `sysmon.summary`. */
export interface SummaryIndex {
  format: 1;
  /** Bucket width, ms. */
  width: number;
  codec: string;
  /** Per row group: where its block is, or null (written before summaries existed). */
  blocks: ([number, number] | null)[];
}

export interface BlockColumn {
  name: string;
  lo: Float64Array;
  hi: Float64Array;
  /** 1 where the bucket's maximum came before its minimum. */
  maxFirst: Uint8Array;
}

export interface Block {
  /** Bucket numbers, in row order (a clock stepped back repeats one; readers merge). */
  b: Float64Array;
  /** Rows per bucket. */
  n: Float64Array;
  /** Stored time (ms) of the bucket's first and last row. */
  t0: Float64Array;
  t1: Float64Array;
  columns: BlockColumn[];
}

/** A numeric column of the rows to summarise: values and 1 where null. */
export interface NumericColumn {
  name: string;
  nums: Float64Array;
  nulls: Uint8Array;
  /** Written as int64: the value is rounded, as the writer does. */
  int: boolean;
}

/**
 * The bucket width for a sample interval: a power of ten of ms holding about 20 samples
 * or more, at most 100 s (a divisor of every whole-quarter-hour time zone offset).
 */
export function summaryWidthFor(sampleIntervalSec: number): number {
  let w = 1000;
  while (w < 100_000 && w < sampleIntervalSec * 1000 * 20) w *= 10;
  return w;
}

/** Buckets of `rows` rows: `ts` the timestamps (µs as stored; none null). */
export function buildBlock(
  width: number,
  rows: number,
  ts: Float64Array,
  columns: NumericColumn[],
): Block {
  // Bucket boundaries: a new bucket where the bucket number changes.
  const starts: number[] = [];
  const bs: number[] = [];
  let prev = NaN;
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(Math.floor(ts[i]! / 1000) / width);
    if (b !== prev) starts.push(i), bs.push(b), (prev = b);
  }
  const k = starts.length;
  const b = Float64Array.from(bs);
  const n = new Float64Array(k), t0 = new Float64Array(k), t1 = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const from = starts[j]!, to = j + 1 < k ? starts[j + 1]! : rows;
    n[j] = to - from;
    t0[j] = Math.floor(ts[from]! / 1000);
    t1[j] = Math.floor(ts[to - 1]! / 1000);
  }
  const out: BlockColumn[] = columns.map((c) => {
    const lo = new Float64Array(k).fill(NaN), hi = new Float64Array(k).fill(NaN);
    const maxFirst = new Uint8Array(k);
    for (let j = 0; j < k; j++) {
      const from = starts[j]!, to = j + 1 < k ? starts[j + 1]! : rows;
      let l = NaN, h = NaN, il = -1, ih = -1;
      for (let i = from; i < to; i++) {
        if (c.nulls[i]) continue;
        const v = c.int ? Math.round(c.nums[i]!) : c.nums[i]!;
        if (!(v >= l)) (l = v), (il = i);
        if (!(v <= h)) (h = v), (ih = i);
      }
      lo[j] = l;
      hi[j] = h;
      maxFirst[j] = ih < il ? 1 : 0;
    }
    return { name: c.name, lo, hi, maxFirst };
  });
  return { b, n, t0, t1, columns: out };
}

export function encodeBlock(block: Block): Uint8Array {
  const k = block.b.length;
  const header = new TextEncoder().encode(
    JSON.stringify({ buckets: k, columns: block.columns.map((c) => c.name) }),
  );
  const head = align8(4 + header.length);
  const cols = block.columns.length;
  const size = head + 8 * k * (4 + 2 * cols) + k * cols;
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  const f64 = new Float64Array(out.buffer, head, k * (4 + 2 * cols));
  let at = 0;
  for (const a of [block.b, block.n, block.t0, block.t1]) f64.set(a, at), (at += k);
  for (const c of block.columns) f64.set(c.lo, at), f64.set(c.hi, at + k), (at += 2 * k);
  let byte = head + 8 * at;
  for (const c of block.columns) out.set(c.maxFirst, byte), (byte += k);
  return out;
}

/** A block as read: columns in two arrays (a view per column would cost more than it reads). */
export interface DecodedBlock {
  b: Float64Array;
  n: Float64Array;
  t0: Float64Array;
  t1: Float64Array;
  names: string[];
  /** Column c's lo[j] at (2c)·k + j, hi[j] at (2c + 1)·k + j (k buckets). */
  values: Float64Array;
  /** Column c's maxFirst[j] at c·k + j. */
  order: Uint8Array;
}

/** A block from its (decompressed) bytes, viewed in place where aligned; throws when damaged. */
export function decodeBlock(bytes: Uint8Array): DecodedBlock {
  if (bytes.length < 4) throw new Error("a summary block is shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  if (4 + len > bytes.length) throw new Error("a summary block's header runs past it");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len)));
  const k = header?.buckets, names = header?.columns;
  if (!Number.isInteger(k) || k < 0 || !Array.isArray(names)) {
    throw new Error("a summary block's header is not sysmon's");
  }
  const head = align8(4 + len);
  const cols = names.length;
  const floats = k * (4 + 2 * cols);
  if (head + 8 * floats + k * cols !== bytes.length) {
    throw new Error("a summary block's size does not match its header");
  }
  const at = bytes.byteOffset + head;
  const f64 = at % 8 === 0
    ? new Float64Array(bytes.buffer, at, floats)
    : new Float64Array(bytes.slice(head, head + 8 * floats).buffer);
  return {
    b: f64.subarray(0, k),
    n: f64.subarray(k, 2 * k),
    t0: f64.subarray(2 * k, 3 * k),
    t1: f64.subarray(3 * k, 4 * k),
    names: names.map(String),
    values: f64.subarray(4 * k),
    order: bytes.subarray(head + 8 * floats),
  };
}

/** A decoded block in the shape it was built in (a view per column). */
export function blockOf(d: DecodedBlock): Block {
  const k = d.b.length;
  return {
    b: d.b,
    n: d.n,
    t0: d.t0,
    t1: d.t1,
    columns: d.names.map((name, c) => ({
      name,
      lo: d.values.subarray(2 * c * k, (2 * c + 1) * k),
      hi: d.values.subarray((2 * c + 1) * k, (2 * c + 2) * k),
      maxFirst: d.order.subarray(c * k, (c + 1) * k),
    })),
  };
}

/** The index from key-value metadata, or null when absent or not understood. */
export function parseSummaryIndex(value: string | undefined): SummaryIndex | null {
  if (value === undefined) return null;
  try {
    const x = JSON.parse(value);
    if (x?.format !== 1 || !(x.width > 0) || !Array.isArray(x.blocks)) return null;
    const blocks = x.blocks.map((e: unknown) =>
      Array.isArray(e) && e.length === 2 && e.every((v) => Number.isSafeInteger(v) && v >= 0)
        ? [e[0], e[1]] as [number, number]
        : null
    );
    return { format: 1, width: x.width, codec: String(x.codec ?? "UNCOMPRESSED"), blocks };
  } catch {
    return null;
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
