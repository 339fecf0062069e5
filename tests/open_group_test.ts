// The page writer on its own (src/store/open_group.ts): rows go in through a RowBuffer fold by
// fold, as ParquetTrace.fold feeds them; the group's chunks and a footer (footer.ts) make a
// complete file, which hyparquet (an independent reader) decodes. Page headers are read with
// hyparquet's own parser. Every expected value is written out here, not computed by sysmon.
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import {
  type ColumnMetaData,
  type CompressionCodec,
  parquetMetadata,
  parquetReadObjects,
  type SchemaElement,
} from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { compressors as decompressors } from "hyparquet-compressors";
import { ByteWriter } from "hyparquet-writer";
import type { ColumnDef, Row } from "../src/schema/columns.ts";
import { type EncodeContext, OpenGroup } from "../src/store/open_group.ts";
import { schemaElements } from "../src/store/parquet_schema.ts";
import { RowBuffer } from "../src/store/row_buffer.ts";
import { rowGroupBytes, writeFooter } from "../src/store/footer.ts";

const col = (name: string, kind: ColumnDef["kind"]): ColumnDef => ({
  name,
  kind,
  unit: "",
  help: "",
});
const TS = col("timestamp", "timestamp");
const N = col("n", "int64");
const X = col("x", "double");
const S = col("s", "string");
const P = col("processes", "processes");

/** 2026-11-18T11:06:40Z in µs, as timestamps are stored. */
const T0 = 1_795_000_000_000_000;
const sec = (i: number) => T0 + i * 1_000_000;

// zstd as the tracer compresses (parquet_trace.ts); hyparquet-compressors decompresses.
const { zstdCompressSync } = zlib as unknown as {
  zstdCompressSync(b: Uint8Array): Uint8Array;
};
const COMPRESSORS = { ZSTD: (b: Uint8Array) => new Uint8Array(zstdCompressSync(b)) };

function schemaOf(columns: ColumnDef[]): SchemaElement[] {
  return [
    { name: "root", num_children: columns.length },
    ...columns.flatMap((c) => schemaElements(c, true)),
  ];
}

function ctxOf(
  columns: ColumnDef[],
  opts: { codec?: CompressionCodec; summaryWidth?: number } = {},
): EncodeContext {
  return {
    schema: schemaOf(columns),
    codec: opts.codec ?? "UNCOMPRESSED",
    compressors: COMPRESSORS,
    summaryWidth: opts.summaryWidth ?? 0,
  };
}

function bufferOf(rows: Row[], columns: ColumnDef[]): RowBuffer {
  const b = new RowBuffer();
  const defOf = (name: string) => {
    const def = columns.find((c) => c.name === name);
    if (!def) throw new Error(`test row has '${name}', not in its columns`);
    return def;
  };
  for (const r of rows) b.push(r, defOf);
  return b;
}

/** One fold: `rows` appended to `group` as one more page per column. */
function fold(
  group: OpenGroup,
  rows: Row[],
  columns: ColumnDef[],
  opts: { codec?: CompressionCodec; summaryWidth?: number } = {},
): OpenGroup {
  return group.append(bufferOf(rows, columns), columns, ctxOf(columns, opts));
}

/** A complete file as ParquetTrace.fold lays it out: magic, each group's chunks, footer. */
function fileOf(
  groups: OpenGroup[],
  columns: ColumnDef[],
  codec: CompressionCodec = "UNCOMPRESSED",
): ArrayBuffer {
  const ctx = ctxOf(columns, { codec });
  const out = new ByteWriter();
  out.appendUint32(0x31524150); // "PAR1"
  const written = groups.map((g) => g.write(out, columns, ctx));
  writeFooter(out, {
    schema: ctx.schema,
    numRows: BigInt(groups.reduce((n, g) => n + g.rows, 0)),
    kv: [],
    createdBy: "open_group_test",
  }, [{ bytes: rowGroupBytes(ctx.schema, written), count: written.length }]);
  const bytes = out.getBytes();
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function decode(file: ArrayBuffer) {
  const meta = parquetMetadata(file);
  const rows = await parquetReadObjects({ file, compressors: decompressors });
  return { meta, rows: rows as Record<string, unknown>[] };
}

/** The chunk metadata of a leaf (its path joined by dots) in row group `g`. */
function chunkOf(meta: ReturnType<typeof parquetMetadata>, path: string, g = 0): ColumnMetaData {
  const c = meta.row_groups[g]!.columns.find((c) => c.meta_data?.path_in_schema.join(".") === path);
  if (!c?.meta_data) throw new Error(`no chunk '${path}' in row group ${g}`);
  return c.meta_data;
}

/** The page headers of a chunk, read one after the other from its first page. */
function pagesOf(file: ArrayBuffer, m: ColumnMetaData) {
  const reader = { view: new DataView(file), offset: Number(m.data_page_offset) };
  const end = reader.offset + Number(m.total_compressed_size);
  const headers = [];
  while (reader.offset < end) {
    const h = parquetHeader(reader);
    headers.push(h);
    reader.offset += h.compressed_page_size;
  }
  assert.equal(reader.offset, end, "the pages fill the chunk exactly");
  return headers.map((h) => ({
    type: h.type,
    rows: h.data_page_header_v2?.num_rows,
    values: h.data_page_header_v2?.num_values,
    nulls: h.data_page_header_v2?.num_nulls,
    encoding: h.data_page_header_v2?.encoding,
    size: h.uncompressed_page_size,
  }));
}

Deno.test("OpenGroup.append() of no rows is the same group; an empty group has nothing to write", async () => {
  const columns = [TS, N, S, P];
  const empty = new OpenGroup();
  const same = empty.append(new RowBuffer(), columns, ctxOf(columns));
  assert.equal(same, empty);
  assert.equal(same.rows, 0);
  assert.equal(same.block, null);
  assert.throws(
    () => empty.write(new ByteWriter(), columns, ctxOf(columns)),
    /no pages for column 'timestamp'/,
  );
  // ParquetTrace writes no row group for an empty open group: the file still reads.
  const { meta, rows } = await decode(fileOf([], columns));
  assert.equal(meta.num_rows, 0n);
  assert.equal(meta.row_groups.length, 0);
  assert.deepEqual(rows, []);
});

Deno.test("OpenGroup writes one row of each kind as one page per column", async () => {
  const columns = [TS, N, X, S, P];
  const g = fold(new OpenGroup(), [{
    timestamp: sec(0),
    n: 42,
    x: 0.25,
    s: "one",
    processes: [{
      pid: 7,
      ppid: 1,
      name: "sh",
      cmdline: "sh -c true",
      user: "root",
      cpu_percent: 12.5,
      rss_bytes: 4096,
      threads: 1,
      read_bytes_per_sec: 0,
      write_bytes_per_sec: 512,
      container: "web",
      gpu_memory_bytes: 0,
    }],
  }], columns);
  assert.equal(g.rows, 1);
  const file = fileOf([g], columns);
  const { meta, rows } = await decode(file);
  assert.deepEqual(rows, [{
    timestamp: new Date("2026-11-18T11:06:40.000Z"),
    n: 42n,
    x: 0.25,
    s: "one",
    processes: [{
      pid: 7n,
      ppid: 1n,
      name: "sh",
      cmdline: "sh -c true",
      user: "root",
      cpu_percent: 12.5,
      rss_bytes: 4096n,
      threads: 1n,
      read_bytes_per_sec: 0,
      write_bytes_per_sec: 512,
      container: "web",
      gpu_memory_bytes: 0n,
    }],
  }]);
  assert.equal(meta.row_groups.length, 1);
  assert.equal(meta.row_groups[0]!.num_rows, 1n);
  // 4 scalar columns and the 12 fields of processes.
  assert.equal(meta.row_groups[0]!.columns.length, 16);
  const single = { type: "DATA_PAGE_V2", rows: 1, values: 1, nulls: 0 };
  for (
    const [path, encoding] of [
      ["timestamp", "DELTA_BINARY_PACKED"],
      ["n", "DELTA_BINARY_PACKED"],
      ["x", "PLAIN"],
      ["s", "PLAIN"],
      ["processes.list.element.pid", "PLAIN"],
    ]
  ) {
    const m = chunkOf(meta, path!);
    assert.deepEqual(m.encodings, [encoding], path);
    assert.equal(m.num_values, 1n, path);
    const [page, ...more] = pagesOf(file, m);
    assert.deepEqual(more, [], `${path}: one page`);
    assert.deepEqual({ ...page, size: undefined }, { ...single, encoding, size: undefined }, path);
  }
  const n = chunkOf(meta, "n").statistics!;
  assert.deepEqual([n.min_value, n.max_value, n.null_count], [42n, 42n, 0n]);
  const s = chunkOf(meta, "s").statistics!;
  assert.deepEqual([s.min_value, s.max_value, s.null_count], ["one", "one", 0n]);
});

Deno.test("OpenGroup keeps int64 limits, -0 and unicode exactly; NaN and ±Infinity read as null", async () => {
  const columns = [TS, N, X, S];
  const n = [-(2 ** 63), 2 ** 63 - 1024, Number.MAX_SAFE_INTEGER, 2 ** 63, null, -1, 0];
  const x = [1.5, NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE];
  const s = ["", "naïve café", "😀", "～", null, "a\u0000b", '日本語\n"quoted"'];
  const input = n.map((_, i): Row => ({ timestamp: sec(i), n: n[i]!, x: x[i]!, s: s[i]! }));
  const file = fileOf([fold(new OpenGroup(), input, columns)], columns);
  const { meta, rows } = await decode(file);
  assert.deepEqual(rows.map((r) => r.n), [
    -9223372036854775808n, // -2^63, the smallest int64
    9223372036854774784n, // 2^63 - 1024, the largest double below 2^63
    9007199254740991n, // 2^53 - 1
    null, // 2^63 does not fit an int64
    null,
    -1n,
    0n,
  ]);
  // deepEqual compares with Object.is: -0 stays -0.
  assert.deepEqual(rows.map((r) => r.x), [
    1.5,
    null,
    null,
    null,
    -0,
    5e-324,
    1.7976931348623157e308,
  ]);
  assert.deepEqual(rows.map((r) => r.s), [
    "",
    "naïve café",
    "😀",
    "～",
    null,
    "a\u0000b",
    '日本語\n"quoted"',
  ]);
  const sn = chunkOf(meta, "n").statistics!;
  assert.deepEqual(
    [sn.min_value, sn.max_value, sn.null_count],
    [-9223372036854775808n, 9223372036854774784n, 2n],
  );
  const sx = chunkOf(meta, "x").statistics!;
  assert.deepEqual([sx.min_value, sx.max_value, sx.null_count], [-0, 1.7976931348623157e308, 3n]);
  // Strings order by their UTF-8 bytes: "" first, U+1F600 (F0 9F 98 80) last.
  const ss = chunkOf(meta, "s").statistics!;
  assert.deepEqual([ss.min_value, ss.max_value, ss.null_count], ["", "😀", 1n]);
  assert.deepEqual(pagesOf(file, chunkOf(meta, "x")).map((p) => [p.rows, p.values, p.nulls]), [
    [7, 7, 3],
  ]);
});

Deno.test("OpenGroup adds one page per column a fold, however large; statistics span the pages", async () => {
  const columns = [TS, N, X, S, col("long", "string")];
  const long = (i: number) => `${i}`.padStart(8, "0") + "x".repeat(292); // 300 characters
  const first: Row[] = [{ timestamp: sec(0), n: 10_000, x: -2.5, s: "😀", long: long(0) }];
  const middle = Array.from({ length: 5000 }, (_, i): Row => ({
    timestamp: sec(1 + i),
    n: i % 1000 === 999 ? null : i,
    x: i / 4,
    s: `row ${i}`,
    long: long(i),
  }));
  const last: Row[] = [
    { timestamp: sec(5001), n: -7, x: null, s: "～", long: long(1) },
    { timestamp: sec(5002), n: null, x: 2000.5, s: null, long: long(2) },
  ];
  let g = new OpenGroup();
  for (const rows of [first, middle, last]) g = fold(g, rows, columns);
  assert.equal(g.rows, 5003);
  const file = fileOf([g], columns);
  const { meta, rows } = await decode(file);
  assert.equal(rows.length, 5003);
  assert.deepEqual(rows[0], {
    timestamp: new Date("2026-11-18T11:06:40.000Z"),
    n: 10000n,
    x: -2.5,
    s: "😀",
    long: "00000000" + "x".repeat(292),
  });
  assert.deepEqual({ ...rows[1000], long: undefined }, {
    timestamp: new Date("2026-11-18T11:23:20.000Z"), // T0 + 1000 s
    n: null,
    x: 249.75,
    s: "row 999",
    long: undefined,
  });
  assert.deepEqual(rows.slice(5001).map((r) => [r.timestamp, r.n, r.x, r.s]), [
    [new Date("2026-11-18T12:30:01.000Z"), -7n, null, "～"], // T0 + 5001 s
    [new Date("2026-11-18T12:30:02.000Z"), null, 2000.5, null],
  ]);
  assert.deepEqual(
    rows.slice(1, 5001).map((r) => r.n),
    Array.from({ length: 5000 }, (_, i) => i % 1000 === 999 ? null : BigInt(i)),
  );

  // No page is split by size (the writer's pageSize is 0): one page per fold, even the
  // 1.5 MB one (5000 × 304 bytes), larger than hyparquet-writer's default 1 MiB pages.
  for (const path of ["timestamp", "n", "x", "s", "long"]) {
    assert.deepEqual(pagesOf(file, chunkOf(meta, path)).map((p) => p.rows), [1, 5000, 2], path);
  }
  assert.ok(pagesOf(file, chunkOf(meta, "long"))[1]!.size > 1_520_000);
  assert.deepEqual(pagesOf(file, chunkOf(meta, "n")).map((p) => [p.nulls, p.encoding]), [
    [0, "DELTA_BINARY_PACKED"],
    [5, "DELTA_BINARY_PACKED"],
    [1, "DELTA_BINARY_PACKED"],
  ]);
  const n = chunkOf(meta, "n");
  assert.equal(n.num_values, 5003n);
  assert.deepEqual(n.encoding_stats, [
    { page_type: "DATA_PAGE_V2", encoding: "DELTA_BINARY_PACKED", count: 3 },
  ]);
  assert.deepEqual(chunkOf(meta, "x").encoding_stats, [
    { page_type: "DATA_PAGE_V2", encoding: "PLAIN", count: 3 },
  ]);
  const stats = (path: string) => {
    const st = chunkOf(meta, path).statistics!;
    return [st.min_value, st.max_value, st.null_count];
  };
  assert.deepEqual(stats("timestamp"), [
    new Date("2026-11-18T11:06:40.000Z"),
    new Date("2026-11-18T12:30:02.000Z"),
    0n,
  ]);
  // Minimum in the last page, maximum in the first; nulls 5 (i = 999, 1999, …) + 1.
  assert.deepEqual(stats("n"), [-7n, 10000n, 6n]);
  assert.deepEqual(stats("x"), [-2.5, 2000.5, 1n]);
  // UTF-8 order: "row 0" < "～" (EF BD 9E) < "😀" (F0 9F 98 80); UTF-16 order would put
  // "😀" (D83D DE00) before "～" (FF5E).
  assert.deepEqual(stats("s"), ["row 0", "😀", 1n]);
});

Deno.test("OpenGroup keeps the UTF-8 maximum when a later page holds a higher UTF-16 string", async () => {
  const columns = [TS, S];
  let g = fold(new OpenGroup(), [{ timestamp: sec(0), s: "😀" }], columns);
  g = fold(g, [{ timestamp: sec(1), s: "～" }], columns);
  g = fold(g, [{ timestamp: sec(2), s: "~" }], columns);
  const { meta, rows } = await decode(fileOf([g], columns));
  assert.deepEqual(rows.map((r) => r.s), ["😀", "～", "~"]);
  const st = chunkOf(meta, "s").statistics!;
  // "~" is 7E; "～" EF BD 9E; "😀" F0 9F 98 80.
  assert.deepEqual([st.min_value, st.max_value], ["~", "😀"]);
});

Deno.test("OpenGroup gives a column new to the group a page of nulls for the rows before it", async () => {
  const before = [TS, N];
  const LATE = col("late", "double");
  const MID = col("mid", "string");
  const after = [TS, N, LATE, MID, P];
  let g = fold(new OpenGroup(), [0, 1, 2].map((i) => ({ timestamp: sec(i), n: i })), before);
  g = fold(g, [
    { timestamp: sec(3), n: 3, late: 4.5 },
    // `mid` and `processes` appear in the middle of this fold.
    {
      timestamp: sec(4),
      n: 4,
      late: null,
      mid: "ünï",
      processes: [{
        pid: 9,
        ppid: null,
        name: "late",
        cmdline: null,
        user: null,
        cpu_percent: null,
        rss_bytes: null,
        threads: null,
        read_bytes_per_sec: null,
        write_bytes_per_sec: null,
        container: null,
        gpu_memory_bytes: null,
      }],
    },
  ], after);
  const file = fileOf([g], after);
  const { meta, rows } = await decode(file);
  assert.deepEqual(rows.map((r) => [r.n, r.late, r.mid]), [
    [0n, null, null],
    [1n, null, null],
    [2n, null, null],
    [3n, 4.5, null],
    [4n, null, "ünï"],
  ]);
  // hyparquet reads a null list as undefined.
  assert.deepEqual(rows.map((r) => r.processes), [undefined, undefined, undefined, undefined, [{
    pid: 9n,
    ppid: null,
    name: "late",
    cmdline: null,
    user: null,
    cpu_percent: null,
    rss_bytes: null,
    threads: null,
    read_bytes_per_sec: null,
    write_bytes_per_sec: null,
    container: null,
    gpu_memory_bytes: null,
  }]]);
  assert.deepEqual(pagesOf(file, chunkOf(meta, "late")).map((p) => [p.rows, p.nulls]), [
    [3, 3],
    [2, 1],
  ]);
  assert.deepEqual(pagesOf(file, chunkOf(meta, "mid")).map((p) => [p.rows, p.nulls]), [
    [3, 3],
    [2, 1],
  ]);
  assert.deepEqual(
    pagesOf(file, chunkOf(meta, "processes.list.element.pid")).map((p) => p.rows),
    [3, 2],
  );
  const late = chunkOf(meta, "late").statistics!;
  assert.deepEqual([late.min_value, late.max_value, late.null_count], [4.5, 4.5, 4n]);
  const mid = chunkOf(meta, "mid").statistics!;
  assert.deepEqual([mid.min_value, mid.max_value, mid.null_count], ["ünï", "ünï", 4n]);
});

Deno.test("OpenGroup writes a column without any value as nulls, with no min or max", async () => {
  const columns = [TS, N, X, S, P];
  let g = fold(new OpenGroup(), [{ timestamp: sec(0) }, { timestamp: sec(1) }], columns);
  g = fold(g, [{ timestamp: sec(2), n: null, s: null, processes: null }], columns);
  const file = fileOf([g], columns);
  const { meta, rows } = await decode(file);
  assert.deepEqual(rows.map((r) => [r.n, r.x, r.s, r.processes]), [
    [null, null, null, undefined],
    [null, null, null, undefined],
    [null, null, null, undefined],
  ]);
  for (const path of ["n", "x", "s"]) {
    const st = chunkOf(meta, path).statistics!;
    assert.deepEqual([st.min_value, st.max_value, st.null_count], [undefined, undefined, 3n]);
    assert.deepEqual(pagesOf(file, chunkOf(meta, path)).map((p) => [p.rows, p.nulls]), [
      [2, 2],
      [1, 1],
    ]);
  }
  // One slot per null list.
  assert.equal(chunkOf(meta, "processes.list.element.pid").num_values, 3n);
});

Deno.test("OpenGroup.append() leaves the group it was called on as it was", async () => {
  const columns = [TS, N];
  const g1 = fold(new OpenGroup(), [0, 1, 2].map((i) => ({ timestamp: sec(i), n: i })), columns);
  const g2 = fold(g1, [{ timestamp: sec(3), n: 30 }, { timestamp: sec(4), n: 40 }], columns);
  assert.equal(g1.rows, 3);
  assert.equal(g2.rows, 5);
  // A fold that failed to write keeps g1: it still writes its own rows only.
  const once = await decode(fileOf([g1], columns));
  assert.deepEqual(once.rows.map((r) => r.n), [0n, 1n, 2n]);
  assert.equal(chunkOf(once.meta, "n").num_values, 3n);
  // Both as row groups of one file (a sealed group, then the open one).
  const file = fileOf([g1, g2], columns);
  const { meta, rows } = await decode(file);
  assert.deepEqual(meta.row_groups.map((g) => g.num_rows), [3n, 5n]);
  assert.equal(meta.num_rows, 8n);
  assert.deepEqual(rows.map((r) => r.n), [0n, 1n, 2n, 0n, 1n, 2n, 30n, 40n]);
  assert.deepEqual(pagesOf(file, chunkOf(meta, "n", 1)).map((p) => p.rows), [3, 2]);
  const st = chunkOf(meta, "n", 1).statistics!;
  assert.deepEqual([st.min_value, st.max_value, st.null_count], [0n, 40n, 0n]);
});

Deno.test("OpenGroup writes processes (zstd): null and empty lists, null fields, limits, unicode", async () => {
  const columns = [TS, P];
  const a = {
    pid: 1,
    ppid: 0,
    name: "systemd",
    cmdline: "/sbin/init splash",
    user: "root",
    cpu_percent: 0.5,
    rss_bytes: 2 ** 63 - 1024,
    threads: 1,
    read_bytes_per_sec: 0,
    write_bytes_per_sec: 1e6,
    container: null,
    gpu_memory_bytes: null,
  };
  const b = {
    pid: Number.MAX_SAFE_INTEGER,
    ppid: -(2 ** 63),
    name: "名前 😀",
    cmdline: "",
    user: null,
    cpu_percent: NaN,
    rss_bytes: 2 ** 63,
    threads: null,
    read_bytes_per_sec: Infinity,
    write_bytes_per_sec: -0,
    container: "web\u0000x",
    gpu_memory_bytes: 0,
  };
  const c = {
    pid: 42,
    ppid: 1,
    name: "",
    cmdline: null,
    user: null,
    cpu_percent: null,
    rss_bytes: null,
    threads: null,
    read_bytes_per_sec: null,
    write_bytes_per_sec: null,
    container: null,
    gpu_memory_bytes: null,
  };
  const zstd = { codec: "ZSTD" as const };
  let g = fold(
    new OpenGroup(),
    [
      { timestamp: sec(0), processes: [a, b] },
      { timestamp: sec(1), processes: null },
    ],
    columns,
    zstd,
  );
  g = fold(
    g,
    [
      { timestamp: sec(2), processes: [] },
      { timestamp: sec(3), processes: [c] },
    ],
    columns,
    zstd,
  );
  const file = fileOf([g], columns, "ZSTD");
  const { meta, rows } = await decode(file);
  assert.deepEqual(rows.map((r) => r.processes), [
    [
      {
        pid: 1n,
        ppid: 0n,
        name: "systemd",
        cmdline: "/sbin/init splash",
        user: "root",
        cpu_percent: 0.5,
        rss_bytes: 9223372036854774784n,
        threads: 1n,
        read_bytes_per_sec: 0,
        write_bytes_per_sec: 1000000,
        container: null,
        gpu_memory_bytes: null,
      },
      {
        pid: 9007199254740991n,
        ppid: -9223372036854775808n,
        name: "名前 😀",
        cmdline: "",
        user: null,
        cpu_percent: null, // NaN
        rss_bytes: null, // 2^63 does not fit
        threads: null,
        read_bytes_per_sec: null, // Infinity
        write_bytes_per_sec: -0,
        container: "web\u0000x",
        gpu_memory_bytes: 0n,
      },
    ],
    undefined, // a null list
    [],
    [{
      pid: 42n,
      ppid: 1n,
      name: "",
      cmdline: null,
      user: null,
      cpu_percent: null,
      rss_bytes: null,
      threads: null,
      read_bytes_per_sec: null,
      write_bytes_per_sec: null,
      container: null,
      gpu_memory_bytes: null,
    }],
  ]);
  const leaves = meta.row_groups[0]!.columns.slice(1).map((ch) => ch.meta_data!);
  assert.deepEqual(leaves.map((m) => [m.path_in_schema.at(-1), m.type]), [
    ["pid", "INT64"],
    ["ppid", "INT64"],
    ["name", "BYTE_ARRAY"],
    ["cmdline", "BYTE_ARRAY"],
    ["user", "BYTE_ARRAY"],
    ["cpu_percent", "DOUBLE"],
    ["rss_bytes", "INT64"],
    ["threads", "INT64"],
    ["read_bytes_per_sec", "DOUBLE"],
    ["write_bytes_per_sec", "DOUBLE"],
    ["container", "BYTE_ARRAY"],
    ["gpu_memory_bytes", "INT64"],
  ]);
  for (const m of leaves) {
    const leaf = m.path_in_schema.join(".");
    assert.deepEqual(m.path_in_schema.slice(0, 3), ["processes", "list", "element"]);
    assert.equal(m.codec, "ZSTD", leaf);
    assert.deepEqual(m.encodings, ["PLAIN"], leaf);
    assert.equal(m.statistics, undefined, `${leaf}: no min/max for a list's field`);
    // Slots: 2 entries + 1 null list in the first fold; 1 empty list + 1 entry in the second.
    assert.equal(m.num_values, 5n, leaf);
    assert.deepEqual(pagesOf(file, m).map((p) => [p.rows, p.values]), [[2, 3], [2, 2]], leaf);
  }
  assert.equal(chunkOf(meta, "timestamp").codec, "ZSTD");
});

Deno.test("OpenGroup's summary block: buckets of each fold back to back, a late column NaN before", () => {
  const width = { summaryWidth: 1000 }; // ms
  const first = [TS, X, S];
  const second = [TS, X, col("late_n", "int64")];
  // Buckets (stored ms / 1000): T0 is 1_795_000_000_000 ms, bucket 1_795_000_000.
  let g = fold(
    new OpenGroup(),
    [
      { timestamp: T0, x: 3, s: "a" },
      { timestamp: T0 + 500_000, x: 1, s: "b" },
      { timestamp: T0 + 1_000_000, x: 2, s: "c" },
    ],
    first,
    width,
  );
  g = fold(
    g,
    [
      { timestamp: T0 + 1_500_000, x: 5, late_n: 9 },
      { timestamp: T0 + 2_000_000, x: null, late_n: 8 },
    ],
    second,
    width,
  );
  const block = g.block!;
  // Bucket 1_795_000_001 is split between the folds: it appears twice.
  assert.deepEqual([...block.b], [1_795_000_000, 1_795_000_001, 1_795_000_001, 1_795_000_002]);
  assert.deepEqual([...block.n], [2, 1, 1, 1]);
  assert.deepEqual(
    [...block.t0],
    [1_795_000_000_000, 1_795_000_001_000, 1_795_000_001_500, 1_795_000_002_000],
  );
  assert.deepEqual(
    [...block.t1],
    [1_795_000_000_500, 1_795_000_001_000, 1_795_000_001_500, 1_795_000_002_000],
  );
  assert.deepEqual(block.columns.map((c) => [c.name, [...c.lo], [...c.hi], [...c.maxFirst]]), [
    // Bucket 0: 3 then 1, the maximum first.
    ["x", [1, 2, 5, NaN], [3, 2, 5, NaN], [1, 0, 0, 0]],
    ["late_n", [NaN, NaN, 9, 8], [NaN, NaN, 9, 8], [0, 0, 0, 0]],
  ]);
  // A row without a timestamp: no block for the group from then on.
  g = fold(g, [{ x: 1 }], second, width);
  assert.equal(g.block, null);
  g = fold(g, [{ timestamp: T0 + 3_000_000, x: 1 }], second, width);
  assert.equal(g.block, null);
  assert.equal(fold(new OpenGroup(), [{ timestamp: T0, x: 1 }], first).block, null, "width 0");
});
