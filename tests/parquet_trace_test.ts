import assert from "node:assert/strict";
import { columnDef, type Row } from "../src/schema/columns.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { readParquet, tempDir } from "./helpers.ts";

const T0 = 1_795_000_000_000_000; // µs
const defs = (n: string) => columnDef(n)!;
const meta = { "sysmon.version": "test", "sysmon.trace_id": "t", "sysmon.timezone": "UTC" };

function row(i: number, extra: Row = {}): Row {
  return {
    timestamp: T0 + i * 1_000_000,
    sys_total: 17_179_869_184 + i, // past 2^32: int64, not int32
    cpu_0_utilization: (i % 100) + 0.5,
    max_files_process: `proc-${i % 7}(${i})`,
    net_bytes_recv_per_sec: i === 0 ? null : i * 10.25,
    ...extra,
  };
}

Deno.test("ParquetTrace writes values an independent reader reads back exactly", async () => {
  const path = `${tempDir()}/t.parquet`;
  const t = new ParquetTrace({ path, utc: true, rowGroupRows: 50 });
  t.add(Array.from({ length: 120 }, (_, i) => row(i)), defs);
  t.fold(meta);
  const { rows, meta: m, kv } = await readParquet(path);
  assert.equal(rows.length, 120);
  assert.equal(kv.get("sysmon.trace_id"), "t");
  const r = rows[7]!;
  assert.equal((r.timestamp as Date).getTime(), (T0 + 7_000_000) / 1000);
  assert.equal(r.sys_total, 17_179_869_191n);
  assert.equal(r.cpu_0_utilization, 7.5);
  assert.equal(r.max_files_process, "proc-0(7)");
  assert.equal(rows[0]!.net_bytes_recv_per_sec, null);
  const types = Object.fromEntries(m.schema.slice(1).map((e) => [e.name, e.type]));
  assert.deepEqual(types, {
    timestamp: "INT64",
    sys_total: "INT64",
    cpu_0_utilization: "DOUBLE",
    max_files_process: "BYTE_ARRAY",
    net_bytes_recv_per_sec: "DOUBLE",
  });
  assert.equal(m.schema[1]!.logical_type?.type, "TIMESTAMP");
});

Deno.test("ParquetTrace seals full row groups and never rewrites their bytes", () => {
  const path = `${tempDir()}/t.parquet`;
  const t = new ParquetTrace({ path, utc: false, rowGroupRows: 100 });
  let i = 0;
  const addRows = (n: number) => t.add(Array.from({ length: n }, () => row(i++)), defs);
  addRows(100);
  t.fold(meta); // seals the first group
  const first = Deno.readFileSync(path);
  addRows(30);
  t.fold(meta);
  addRows(30);
  t.fold(meta);
  const later = Deno.readFileSync(path);
  // The sealed group's bytes are copied, not re-encoded: a byte-identical prefix.
  const sealedEnd = Number(t["sealed"].end);
  assert.ok(sealedEnd > 200, `sealed bytes: ${sealedEnd}`);
  assert.deepEqual(later.subarray(0, sealedEnd), first.subarray(0, sealedEnd));
  assert.equal(t.rows, 160);
  assert.equal(t["open"].rows, 60, "the open group: 60 rows, kept as pages");
  assert.equal(t.unfoldedCount, 0, "no rows kept as rows once folded");
});

Deno.test("ParquetTrace adds a column mid-trace; earlier rows read as null", async () => {
  const path = `${tempDir()}/t.parquet`;
  const t = new ParquetTrace({ path, utc: false, rowGroupRows: 10 });
  t.add(Array.from({ length: 25 }, (_, i) => row(i)), defs);
  t.fold(meta); // 2 sealed groups + 5 open rows
  t.add([row(25, { cpu_1_utilization: 42 }), row(26, { cpu_1_utilization: 43 })], defs);
  t.fold(meta);
  const { rows, meta: m } = await readParquet(path);
  assert.equal(rows.length, 27);
  assert.equal(rows[3]!.cpu_1_utilization, null);
  assert.equal(rows[22]!.cpu_1_utilization, null);
  assert.equal(rows[25]!.cpu_1_utilization, 42);
  // Columns stay in their natural place: cpu_1 right after cpu_0.
  const names = m.schema.slice(1).map((e) => e.name);
  assert.equal(names.indexOf("cpu_1_utilization"), names.indexOf("cpu_0_utilization") + 1);
  for (const g of m.row_groups) assert.equal(g.columns.length, names.length);
});

Deno.test("ParquetTrace.open continues a file: old groups kept, new rows appended", async () => {
  const path = `${tempDir()}/t.parquet`;
  const a = new ParquetTrace({ path, utc: true, rowGroupRows: 1000 });
  a.add(Array.from({ length: 40 }, (_, i) => row(i)), defs);
  a.fold(meta);
  const b = ParquetTrace.open({ path, utc: true });
  assert.equal(b.rows, 40);
  b.add([row(40), row(41)], defs);
  b.fold(meta);
  const { rows } = await readParquet(path);
  assert.equal(rows.length, 42);
  assert.equal(rows[41]!.max_files_process, "proc-6(41)");
  assert.equal(rows[0]!.max_files_process, "proc-0(0)");
});

Deno.test("ParquetTrace starts afresh, and says so, when its file was deleted", async () => {
  const path = `${tempDir()}/t.parquet`;
  const t = new ParquetTrace({ path, utc: true, rowGroupRows: 10 });
  t.add(Array.from({ length: 10 }, (_, i) => row(i)), defs);
  t.fold(meta);
  Deno.removeSync(path);
  t.add([row(10)], defs);
  t.fold(meta);
  assert.equal(t.lostFile, true);
  const { rows } = await readParquet(path);
  assert.equal(rows.length, 1);
});

Deno.test("a fold writes only the open group's footer entry; many sealed groups read back", async () => {
  const path = `${tempDir()}/t.parquet`;
  const t = new ParquetTrace({ path, utc: true, rowGroupRows: 10 });
  // 20 sealed groups (a list header of more than 14 entries), folded 5 rows at a time, and a
  // column that appears in the middle (the sealed entries are rewritten once for it).
  for (let i = 0; i < 205; i += 5) {
    t.add(
      Array.from({ length: 5 }, (_, k) => row(i + k, i >= 100 ? { load_1m: i + k } : {})),
      defs,
    );
    t.fold(meta);
  }
  const { rows, meta: m } = await readParquet(path);
  assert.equal(m.row_groups.length, 21);
  assert.equal(rows.length, 205);
  assert.deepEqual(
    rows.map((r) => (r.timestamp as Date).getTime()),
    rows.map((_, i) => (T0 + i * 1e6) / 1000),
  );
  assert.deepEqual(rows.map((r) => r.load_1m), rows.map((_, i) => (i >= 100 ? i : null)));
  m.row_groups.forEach((g, k) => {
    const ts = g.columns.find((c) => c.meta_data?.path_in_schema[0] === "timestamp")!.meta_data!;
    assert.equal(
      Number(ts.statistics?.min_value), // a Date: ms
      (T0 + k * 10 * 1e6) / 1000,
      `group ${k} min`,
    );
    assert.equal(Number(g.num_rows), k < 20 ? 10 : 5);
  });
  assert.ok(t["sealed"].footer.length > 0 && t["sealed"].count === 20);
});

Deno.test("statistics of text across folds follow UTF-8 byte order, as Parquet's do", async () => {
  const path = `${tempDir()}/t.parquet`;
  const t = new ParquetTrace({ path, utc: true, rowGroupRows: 1000 });
  // U+FF5E sorts after U+1F600 in UTF-16 code units, before it in UTF-8 bytes.
  t.add([row(0, { max_files_process: "😀(1)" })], defs);
  t.fold(meta);
  t.add([row(1, { max_files_process: "～(2)" })], defs);
  t.fold(meta);
  const { meta: m } = await readParquet(path);
  const chunk = m.row_groups[0]!.columns.find((c) =>
    c.meta_data?.path_in_schema[0] === "max_files_process"
  )!;
  assert.equal(chunk.meta_data?.statistics?.max_value, "😀(1)");
  assert.equal(chunk.meta_data?.statistics?.min_value, "～(2)");
});
