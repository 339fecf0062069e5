// How `run` lays a trace out in files (src/store/segments.ts): a fold writes only its rows
// (a piece) once the segment exists, a full row group closes the segment and starts the next,
// and a trace that holds a full group already is never rewritten. Read back by native DuckDB
// through the documented glob, and by hyparquet.
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { ParquetSink, recoverJournal } from "../src/store/parquet_sink.ts";
import { listSegments, rowRange, segmentGlob, uncovered } from "../src/store/segments.ts";
import type { Row } from "../src/schema/columns.ts";
import { snapshotSink } from "../src/tracer/control.ts";
import { readParquetFile, tempDir } from "./helpers.ts";

const T0 = 1_795_000_000_000_000; // µs, UTC
const row = (i: number): Row => ({
  timestamp: T0 + i * 1_000_000,
  sys_total: 1000 + i,
  load_1m: i / 4,
  processes: [{
    pid: 100 + i,
    ppid: 1,
    name: `job-${i}`,
    cmdline: "",
    user: "root",
    cpu_percent: 1,
    rss_bytes: 4096,
    threads: 1,
    read_bytes_per_sec: null,
    write_bytes_per_sec: null,
    container: null,
    gpu_memory_bytes: null,
  }],
});

/** A sink with a row group of 30 rows, folding on every write, on a simulated clock. */
function sink(path: string, rowGroupRows = 30) {
  let now = 0;
  const s = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 1000,
    rowGroupRows,
    now: () => (now += 1000),
  });
  let next = 0;
  return {
    sink: s,
    /** Adds `n` rows and writes them (a fold each time). */
    write(n: number) {
      for (let i = 0; i < n; i++) s.add(row(next++));
      const r = s.write();
      assert.equal(r.error, null);
      return r;
    },
    set start(i: number) {
      next = i;
    },
  };
}

const names = (path: string) =>
  listSegments(path).map((s) => s.path.slice(s.path.lastIndexOf("/") + 1));

async function duckRows(glob: string): Promise<number[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const sql = `SELECT sys_total FROM read_parquet('${
      glob.replaceAll("'", "''")
    }') ORDER BY timestamp`;
    return (await con.runAndReadAll(sql)).getRowObjects().map((r) => Number(r.sys_total));
  } finally {
    con.closeSync();
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => 1000 + a + i);

Deno.test("folds after the first write only the new rows, and a full group starts the next file", async () => {
  const path = `${tempDir()}/t.parquet`;
  const t = sink(path);
  t.write(10); // the segment's first fold: the file itself
  assert.deepEqual(names(path), ["t.parquet"]);
  const first = Deno.statSync(path);
  t.write(8); // a piece: the fold's rows alone, the file untouched
  t.write(7);
  assert.deepEqual(names(path), ["t.parquet", "t.0001.parquet", "t.0002.parquet"]);
  assert.equal(Deno.statSync(path).ino, first.ino);
  assert.equal((await readParquetFile(`${path.slice(0, -8)}.0002.parquet`)).rows.length, 7);
  const piece = await readParquetFile(`${path.slice(0, -8)}.0001.parquet`);
  assert.equal(piece.kv.get("sysmon.first_row"), "10");
  assert.equal(
    piece.kv.get("sysmon.trace_id"),
    (await readParquetFile(path)).kv.get("sysmon.trace_id"),
  );
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 25));
  t.write(5); // 30 rows: the group is full; the file is written whole, the pieces go
  assert.deepEqual(names(path), ["t.parquet"]);
  assert.equal((await readParquetFile(path)).rows.length, 30);
  t.write(4); // the next segment
  assert.deepEqual(names(path), ["t.parquet", "t.0001.parquet"]);
  const second = await readParquetFile(`${path.slice(0, -8)}.0001.parquet`);
  assert.equal(second.kv.get("sysmon.first_row"), "30");
  assert.equal(t.write(3).rowsWritten, 37);
  t.sink.close(); // the last write merges the open segment's pieces: one file per group
  assert.deepEqual(names(path), ["t.parquet", "t.0001.parquet"]);
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 37));
});

Deno.test("a short run is one file", async () => {
  const path = `${tempDir()}/short.parquet`;
  const t = sink(path, 3600);
  for (let i = 0; i < 6; i++) t.write(10);
  assert.equal(names(path).length, 6);
  t.sink.close();
  assert.deepEqual(names(path), ["short.parquet"]);
  assert.deepEqual(await duckRows(path), range(0, 60));
});

Deno.test("appending to a trace that holds a full group leaves its files as they are", async () => {
  const path = `${tempDir()}/old.parquet`;
  const a = sink(path);
  a.write(30);
  a.sink.close();
  const before = Deno.readFileSync(path);
  const ino = Deno.statSync(path).ino;
  const b = sink(path);
  assert.match(b.sink.notices.join("\n"), /appending to .*old\.parquet \(30 rows\)/);
  b.start = 30;
  b.write(5);
  b.write(5);
  b.sink.close();
  assert.deepEqual(Deno.readFileSync(path), before);
  assert.equal(Deno.statSync(path).ino, ino);
  assert.deepEqual(names(path), ["old.parquet", "old.0001.parquet"]);
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 40));
});

Deno.test("a killed run's pieces stay as segments and its journal joins them, once each", async () => {
  const path = `${tempDir()}/k.parquet`;
  let now = 0;
  const s = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 10_000,
    rowGroupRows: 30,
    now: () => now,
  });
  let i = 0;
  const write = (n: number, ms: number) => {
    for (let k = 0; k < n; k++) s.add(row(i++));
    now += ms;
    assert.equal(s.write().error, null);
  };
  write(10, 10_000); // a fold: k.parquet
  write(5, 10_000); // a fold: the piece k.0001.parquet
  write(4, 1_000); // the journal only
  assert.deepEqual(names(path), ["k.parquet", "k.0001.parquet"]);
  // Killed here (no close). The next run folds the journal into the last file.
  const notices = recoverJournal(path);
  assert.match(notices.join("\n"), /recovered 4 samples .* into .*k\.0001\.parquet/);
  const b = sink(path);
  b.start = 19;
  b.write(2);
  b.sink.close();
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 21));
});

Deno.test("a journal left by a killed run joins the last segment, numbered across files", async () => {
  const path = `${tempDir()}/j.parquet`;
  let now = 0;
  const s = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 3_600_000,
    now: () => (now += 1000),
  });
  for (let i = 0; i < 3600; i++) s.add(row(i));
  s.write(); // the first write folds: 3600 rows, a full group (an hour at 1 Hz); the next rows start j.0001
  for (let i = 3600; i < 3606; i++) {
    s.add(row(i));
    assert.equal(s.write().error, null); // journal only
  }
  assert.deepEqual(names(path), ["j.parquet"]);
  // Killed here (no close). The next run folds the journal into the new segment.
  const notices = recoverJournal(path);
  assert.match(notices.join("\n"), /recovered 6 samples .* into .*j\.0001\.parquet/);
  assert.deepEqual(names(path), ["j.parquet", "j.0001.parquet"]);
  assert.equal(
    (await readParquetFile(path.replace(".parquet", ".0001.parquet"))).kv.get("sysmon.first_row"),
    "3600",
  );
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 3606));
});

Deno.test("a piece a merged segment holds as well (killed mid-merge) is removed, never read twice", async () => {
  const path = `${tempDir()}/m.parquet`;
  const t = sink(path);
  t.write(10);
  t.write(5); // piece m.0001.parquet: rows 10..14
  const piece = Deno.readFileSync(path.replace(".parquet", ".0001.parquet"));
  t.sink.close(); // merged into m.parquet, the piece removed
  Deno.writeFileSync(path.replace(".parquet", ".0001.parquet"), piece); // as a kill would leave it
  const b = sink(path);
  assert.match(b.sink.notices.join("\n"), /m\.0001\.parquet: its rows are in .*m\.parquet already/);
  b.start = 15;
  b.write(3);
  b.sink.close();
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 18));
});

Deno.test("a file beside the trace that another trace wrote is refused, not appended to", () => {
  const dir = tempDir();
  const a = sink(`${dir}/x.parquet`);
  a.write(3);
  a.sink.close();
  const b = sink(`${dir}/y.parquet`);
  b.write(3);
  b.sink.close();
  Deno.renameSync(`${dir}/y.parquet`, `${dir}/x.0001.parquet`);
  assert.throws(() => sink(`${dir}/x.parquet`), /x\.0001\.parquet belongs to another trace/);
});

Deno.test("a snapshot of a trace in several files is the same files and the rows not folded", async () => {
  const dir = tempDir();
  const path = `${dir}/s.parquet`;
  let now = 0;
  const s = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 10_000,
    now: () => now,
  });
  let i = 0;
  const write = (n: number, ms: number) => {
    for (let k = 0; k < n; k++) s.add(row(i++));
    now += ms;
    assert.equal(s.write().error, null);
  };
  write(10, 10_000); // s.parquet
  write(5, 10_000); // the piece s.0001.parquet
  write(3, 1_000); // the journal only
  s.add(row(i++)); // buffered: the snapshot writes it first
  const snap = snapshotSink(s, `${dir}/s_0.parquet`);
  assert.equal(snap.rows, 19);
  assert.deepEqual(names(`${dir}/s_0.parquet`), [
    "s_0.parquet",
    "s_0.0001.parquet",
    "s_0.0002.parquet",
  ]);
  assert.deepEqual(await duckRows(`${dir}/s_0.*parquet`), range(0, 19));
  const last = await readParquetFile(`${dir}/s_0.0002.parquet`);
  assert.equal(last.kv.get("sysmon.first_row"), "15");
  assert.equal(last.kv.get("sysmon.snapshot_of"), "s.parquet");
  s.close();
  assert.deepEqual(await duckRows(segmentGlob(path)), range(0, 19));
  assert.throws(() => snapshotSink(s, `${dir}/s_0.parquet`), /already exists/);
});

Deno.test("the documented DuckDB one-liner reads segments whose columns differ (a GPU that appeared later)", async () => {
  const path = `${tempDir()}/g.parquet`;
  const t = sink(path);
  t.write(30); // g.parquet, no GPU column
  for (let i = 30; i < 35; i++) t.sink.add({ ...row(i), gpu_0_utilization: 50 + i });
  assert.equal(t.sink.write().error, null); // g.0001.parquet, with it
  t.sink.close();
  assert.deepEqual(names(path), ["g.parquet", "g.0001.parquet"]);
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const rows = (await con.runAndReadAll(
      `SELECT sys_total, gpu_0_utilization AS gpu
         FROM read_parquet('${segmentGlob(path)}', union_by_name = true) ORDER BY timestamp`,
    )).getRowObjects();
    assert.equal(rows.length, 35);
    assert.equal(rows[0]!.gpu, null);
    assert.equal(rows[34]!.gpu, 84);
  } finally {
    con.closeSync();
  }
});

Deno.test("uncovered(): the one rule the writer and the readers leave files out by", () => {
  const r = (trace: string, first: number | null, rows: number) => ({ trace, first, rows });
  const files = [
    r("t", 0, 20), // a segment merged whole
    r("t", 10, 5), // its piece, still there: inside it
    r("t", 20, 5), // the next piece
    r("t", 20, 5), // the same rows again (a copy): the later one is left out
    r("u", 10, 5), // another trace's rows: never inside this one's
    r("t", null, 3), // says nothing: follows the rows before it
  ];
  assert.deepEqual(
    uncovered(files, (f) => f).map(({ item, first, end }) => [files.indexOf(item), first, end]),
    [[0, 0, 20], [2, 20, 25], [4, 10, 15], [5, 25, 28]],
  );
  assert.deepEqual(rowRange({ "sysmon.trace_id": "t", "sysmon.first_row": "7" }, 2), r("t", 7, 2));
  assert.deepEqual(rowRange({ "sysmon.first_row": "x" }, 2), r("", null, 2));
});
