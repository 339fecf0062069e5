// One row stream: what the data layer answers includes the rows a tracer has written to its
// journal and not folded into the Parquet file yet (meta, series, CSV export, processes).
import assert from "node:assert/strict";
import { ParquetSink } from "../src/store/parquet_sink.ts";
import { openTrace } from "../src/query/source.ts";
import type { Row } from "../src/schema/columns.ts";
import { readParquet, tempDir } from "./helpers.ts";

const T0 = 1_795_000_000_000_000; // µs, UTC
const proc = (pid: number, name: string) => ({
  pid,
  ppid: 1,
  name,
  cmdline: name,
  user: "root",
  cpu_percent: pid / 10,
  rss_bytes: pid * 4096,
  threads: 1,
  read_bytes_per_sec: null,
  write_bytes_per_sec: null,
  container: null,
  gpu_memory_bytes: null,
});
const row = (i: number): Row => ({
  timestamp: T0 + i * 1_000_000 + 250, // a quarter of a millisecond past the second
  sys_total: 1000 + i,
  load_1m: i / 4,
  processes: [proc(100 + i, `job-${i}`)],
});

/** A trace whose file holds rows 0..9 and whose journal holds 10..14 (a live tracer's). */
function tracing() {
  const path = `${tempDir()}/live.parquet`;
  let now = 0;
  const sink = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 60_000,
    now: () => now,
  });
  for (let i = 0; i < 10; i++) sink.add(row(i));
  sink.write(); // the first write folds: the file has rows 0..9
  for (let i = 10; i < 15; i++) {
    sink.add(row(i));
    now += 1000;
    assert.equal(sink.write().error, null); // journal only: the fold is not due
  }
  return { path, sink, advance: (ms: number) => (now += ms) };
}

Deno.test("meta, series, export and processes include the rows only the journal holds", async () => {
  const { path, sink } = tracing();
  assert.equal((await readParquet(path)).rows.length, 10, "the file lags the journal");
  const src = await openTrace(path, { defaultZone: "UTC" });
  try {
    const meta = await src.meta();
    assert.equal(meta.rows, 15);
    assert.equal(meta.last, Date.UTC(2026, 10, 18, 11, 6, 54)); // row 14: T0 + 14 s
    assert.equal(meta.first, Date.UTC(2026, 10, 18, 11, 6, 40));

    const s = await src.series({ columns: ["sys_total", "load_1m"], points: 1000 });
    assert.equal(s.rows, 15);
    assert.deepEqual(s.series.sys_total!.slice(-3), [1012, 1013, 1014]);
    assert.equal(s.t.at(-1), meta.last);

    let csv = "";
    for await (const chunk of src.exportCsv({ columns: ["sys_total", "load_1m"] })) csv += chunk;
    const lines = csv.trim().split("\n");
    assert.equal(lines.length, 16); // header and 15 rows
    assert.equal(lines[0], "timestamp,sys_total,load_1m");
    assert.equal(lines[10], "2026-11-18T11:06:49.000250Z,1009,2.25"); // the file's last
    assert.equal(lines[15], "2026-11-18T11:06:54.000250Z,1014,3.5"); // the journal's last

    const p = await src.processesAt(meta.last!);
    assert.equal(p.at, meta.last);
    assert.deepEqual(p.processes.map((x) => [x.pid, x.name]), [[114, "job-14"]]);
    const older = await src.processesAt(Date.UTC(2026, 10, 18, 11, 6, 41));
    assert.deepEqual(older.processes.map((x) => x.name), ["job-1"], "from the file");
  } finally {
    await src.close();
    sink.close();
  }
});

Deno.test("after a fold the rows come from the file, once each", async () => {
  const { path, sink, advance } = tracing();
  const src = await openTrace(path, { defaultZone: "UTC" });
  try {
    assert.equal((await src.meta()).rows, 15);
    sink.add(row(15));
    advance(60_000);
    sink.write(); // the fold is due: the file holds 0..15, the journal starts over
    assert.equal((await readParquet(path)).rows.length, 16);
    const meta = await src.meta();
    assert.equal(meta.rows, 16);
    let csv = "";
    for await (const chunk of src.exportCsv({ columns: ["sys_total"] })) csv += chunk;
    const values = csv.trim().split("\n").slice(1).map((l) => Number(l.split(",")[1]));
    assert.deepEqual(values, Array.from({ length: 16 }, (_, i) => 1000 + i));
    sink.add(row(16));
    advance(1000);
    sink.write(); // journal only again
    assert.equal((await src.meta()).rows, 17);
  } finally {
    await src.close();
    sink.close();
  }
});

Deno.test("an export of a range the file does not reach yet is the journal's rows", async () => {
  const { path, sink } = tracing();
  const src = await openTrace(path, { defaultZone: "UTC" });
  try {
    let csv = "";
    const start = Date.UTC(2026, 10, 18, 11, 6, 51); // after the file's last row (…:49)
    for await (const c of src.exportCsv({ columns: ["sys_total"], start })) csv += c;
    assert.deepEqual(csv.trim().split("\n").map((l) => l.split(",")[1]), [
      "sys_total",
      "1011",
      "1012",
      "1013",
      "1014",
    ]);
  } finally {
    await src.close();
    sink.close();
  }
});

Deno.test("a column only the journal has yet is exported, blank in the file's rows", async () => {
  const path = `${tempDir()}/late.parquet`;
  let now = 0;
  const sink = ParquetSink.open({
    path,
    utc: true,
    sampleInterval: 1,
    foldIntervalMs: 60_000,
    now: () => now,
  });
  for (let i = 0; i < 3; i++) sink.add(row(i));
  sink.write(); // folded: the file has rows 0..2, without the GPU
  for (let i = 3; i < 5; i++) {
    sink.add({ ...row(i), gpu_0_used: 7000 + i }); // a GPU appears: only in the journal yet
    now += 1000;
    sink.write();
  }
  const src = await openTrace(path, { defaultZone: "UTC" });
  try {
    let all = "";
    for await (const c of src.exportCsv({})) all += c;
    const lines = all.trim().split("\n");
    assert.ok(lines[0]!.endsWith(",gpu_0_used"), lines[0]);
    assert.ok(lines[1]!.endsWith(","), "blank in the file's rows");
    assert.ok(lines[5]!.endsWith(",7004"));
    let one = "";
    for await (const c of src.exportCsv({ columns: ["gpu_0_used", "sys_total"] })) one += c;
    assert.deepEqual(one.trim().split("\n").map((l) => l.split(",").slice(1).join(",")), [
      "gpu_0_used,sys_total",
      ",1000",
      ",1001",
      ",1002",
      "7003,1003",
      "7004,1004",
    ]);
    await assert.rejects(async () => {
      for await (const _ of src.exportCsv({ columns: ["nope"] })) { /* the header */ }
    }, /no column 'nope'/);
  } finally {
    await src.close();
    sink.close();
  }
});
