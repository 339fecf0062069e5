// Several trace files as one trace: a directory or a glob (segments of a trace, a day's files,
// archived runs), merged in time order by the data layer.
import assert from "node:assert/strict";
import { ParquetSink } from "../src/store/parquet_sink.ts";
import { openTrace } from "../src/query/source.ts";
import { globPattern } from "../src/query/multi.ts";
import type { Row } from "../src/schema/columns.ts";
import { tempDir } from "./helpers.ts";
import { startServe } from "./fault_kit.ts";
import { LiveSession } from "../src/live/session.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { traceMetadata } from "../src/store/metadata.ts";
import { columnDef } from "../src/schema/columns.ts";
import { traceIdOf } from "../src/query/compare_set.ts";

const T0 = 1_795_000_000_000_000; // µs UTC: 2026-11-18T11:06:40Z
const proc = (pid: number) => ({
  pid,
  ppid: 1,
  name: `p${pid}`,
  cmdline: null,
  user: null,
  cpu_percent: 1,
  rss_bytes: 4096,
  threads: 1,
  read_bytes_per_sec: null,
  write_bytes_per_sec: null,
  container: null,
  gpu_memory_bytes: null,
});

/** A trace of `n` rows from second `from`, with `extra` columns in each row. */
function trace(path: string, from: number, n: number, extra: Record<string, number> = {}) {
  const sink = ParquetSink.open({ path, utc: true, sampleInterval: 1 });
  for (let i = from; i < from + n; i++) {
    const row: Row = {
      timestamp: T0 + i * 1_000_000,
      sys_total: 1000 + i,
      load_1m: i / 2,
      processes: [proc(100 + i)],
      ...extra,
    };
    sink.add(row);
  }
  assert.equal(sink.close().error, null);
}

/** `n` rows from second `from` in another file of the trace at `base` (its id: a snapshot). */
function snapshot(base: string, path: string, from: number, n: number) {
  const t = new ParquetTrace({ path, utc: true });
  const rows: Row[] = [];
  for (let i = from; i < from + n; i++) {
    rows.push({ timestamp: T0 + i * 1_000_000, sys_total: 1000 + i, load_1m: i / 2 });
  }
  t.add(rows, (c) => columnDef(c)!);
  t.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: traceIdOf(base)! }, t.columns));
}

Deno.test("globPattern() reads *, ? and [...] of one path part", () => {
  const segments = globPattern("trace.*parquet");
  for (const yes of ["trace.parquet", "trace.0001.parquet"]) assert.ok(segments.test(yes), yes);
  for (const no of ["trace_1.parquet", "trace.parquet.journal", "xtrace.parquet", "trace.csv"]) {
    assert.ok(!segments.test(no), no);
  }
  assert.ok(globPattern("day-?[0-9].csv").test("day-a7.csv"));
  assert.ok(!globPattern("day-?[!0-9].csv").test("day-a7.csv"));
  assert.ok(globPattern("a+b(1).parquet").test("a+b(1).parquet"), "other characters as they are");
});

Deno.test("a directory of traces reads as one: rows, range, columns, series, export, processes", async () => {
  const dir = tempDir();
  trace(`${dir}/b.parquet`, 10, 5, { gpu_0_used: 7 }); // later, with a column the other lacks
  trace(`${dir}/a.parquet`, 0, 5);
  Deno.writeTextFileSync(`${dir}/notes.txt`, "not a trace");
  const src = await openTrace(dir, { defaultZone: "UTC" });
  try {
    const meta = await src.meta();
    assert.equal(meta.rows, 10);
    assert.equal(meta.first, Date.UTC(2026, 10, 18, 11, 6, 40));
    assert.equal(meta.last, Date.UTC(2026, 10, 18, 11, 6, 54));
    assert.ok(meta.columns.some((c) => c.name === "gpu_0_used"));
    assert.equal(meta.producer, "sysmon");
    assert.match(meta.notices.join("\n"), /2 files, read as one trace/);

    const s = await src.series({ columns: ["sys_total", "gpu_0_used", "nope"], points: 1000 });
    // 6 s between the files (1 s samples): a hole, a null inside it (gaps.ts)
    assert.deepEqual(s.series.sys_total, [
      1000,
      1001,
      1002,
      1003,
      1004,
      null,
      1010,
      1011,
      1012,
      1013,
      1014,
    ]);
    assert.deepEqual(s.series.gpu_0_used, [null, null, null, null, null, null, 7, 7, 7, 7, 7]);
    assert.equal(s.t[5], Date.UTC(2026, 10, 18, 11, 6, 45), "one interval after the last row");
    assert.deepEqual(s.missing, ["nope"]);
    const gap = await src.series({
      columns: ["sys_total"],
      start: Date.UTC(2026, 10, 18, 11, 6, 46),
      end: Date.UTC(2026, 10, 18, 11, 6, 50),
      points: 100,
    });
    assert.deepEqual(gap.series.sys_total, [1010], "only the second file's first row");

    let csv = "";
    for await (const c of src.exportCsv({ columns: ["sys_total", "gpu_0_used"] })) csv += c;
    const lines = csv.trim().split("\n");
    assert.equal(lines[0], "timestamp,sys_total,gpu_0_used");
    assert.equal(lines.length, 11);
    assert.equal(lines[1], "2026-11-18T11:06:40.000Z,1000,");
    assert.equal(lines[6], "2026-11-18T11:06:50.000Z,1010,7");

    const p = await src.processesAt(Date.UTC(2026, 10, 18, 11, 6, 51));
    assert.deepEqual(p.processes.map((x) => x.pid), [111]);
  } finally {
    await src.close();
  }
});

Deno.test("a glob picks its files; none matching, or an unknown column, is said so", async () => {
  const dir = tempDir();
  trace(`${dir}/trace.parquet`, 0, 3);
  trace(`${dir}/trace.0001.parquet`, 3, 3);
  trace(`${dir}/trace_1.parquet`, 100, 3); // a snapshot of it: not a segment
  const src = await openTrace(`${dir}/trace.*parquet`, { defaultZone: "UTC" });
  try {
    assert.equal((await src.meta()).rows, 6);
    await assert.rejects(async () => {
      for await (const _ of src.exportCsv({ columns: ["nope"] })) { /* header */ }
    }, /no file of .* has nope/);
  } finally {
    await src.close();
  }
  await assert.rejects(openTrace(`${dir}/other*.parquet`), /names no \.parquet or \.csv file/);
});

Deno.test({
  name: "sysmon serve DIR and serve 'GLOB' show the files as one trace, read only",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    trace(`${dir}/trace.parquet`, 0, 4);
    trace(`${dir}/trace.0001.parquet`, 4, 4, { gpu_0_used: 3 });
    // A snapshot beside them (the same trace: its id): in the directory only.
    snapshot(`${dir}/trace.parquet`, `${dir}/trace_1.parquet`, 100, 2);
    for (const [target, rows] of [[dir, 10], [`${dir}/trace.*parquet`, 8]] as const) {
      const serve = await startServe(["--port", "0", target]);
      try {
        const meta = await (await fetch(`${serve.url}api/meta`)).json();
        assert.equal(meta.rows, rows, target);
        assert.ok(meta.columns.some((c: { name: string }) => c.name === "gpu_0_used"));
        const page = await fetch(serve.url);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /read as one trace/);
        const panel = await fetch(`${serve.url}tab/overview/panel`);
        assert.equal(panel.status, 200);
        await panel.body?.cancel();
        const start = await fetch(`${serve.url}api/trace/start`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        });
        assert.equal(start.status, 400);
        assert.match((await start.json()).error, /several files: give the output file/);
      } finally {
        const r = await serve.stop();
        assert.equal(r.code, 0, r.stderr);
      }
    }
  },
});

Deno.test("files that overlap in time give their points in time order", async () => {
  const dir = tempDir();
  trace(`${dir}/a.parquet`, 0, 4); // seconds 0..3
  trace(`${dir}/b.parquet`, 2, 4); // seconds 2..5: a snapshot taken later, say
  const src = await openTrace(dir, { defaultZone: "UTC" });
  try {
    const s = await src.series({ columns: ["sys_total"], points: 1000 });
    assert.deepEqual(s.series.sys_total, [1000, 1001, 1002, 1002, 1003, 1003, 1004, 1005]);
    assert.ok(s.t.every((t, i) => i === 0 || t >= s.t[i - 1]!));
  } finally {
    await src.close();
  }
});

Deno.test("several files: a range inside one of them exports, files come and go, events files are not traces", async () => {
  const dir = tempDir();
  trace(`${dir}/a.parquet`, 0, 5);
  trace(`${dir}/b.parquet`, 10, 5);
  Deno.writeTextFileSync(
    `${dir}/b.parquet.events.csv`,
    "event,timestamp,kind\nx,2026-11-18T11:06:41Z,manual\n",
  );
  const src = await openTrace(dir, { defaultZone: "UTC" });
  try {
    assert.equal((await src.meta()).rows, 10, "the events file is not read as a trace");
    let csv = "";
    const at = (s: number) => Date.UTC(2026, 10, 18, 11, 6, 40 + s);
    for await (const c of src.exportCsv({ columns: ["sys_total"], start: at(12), end: at(13) })) {
      csv += c;
    }
    assert.deepEqual(csv.trim().split("\n"), [
      "timestamp,sys_total",
      "2026-11-18T11:06:52.000Z,1012",
      "2026-11-18T11:06:53.000Z,1013",
    ]);
    trace(`${dir}/c.parquet`, 20, 3); // a file added while shown
    assert.equal((await src.meta()).rows, 13);
    Deno.removeSync(`${dir}/a.parquet`); // and one gone
    const meta = await src.meta();
    assert.equal(meta.rows, 8);
    assert.equal(meta.first, at(10));
  } finally {
    await src.close();
  }
});

Deno.test("a file named like a glob is one file; a glob that cannot be read is said so", async () => {
  const dir = tempDir();
  trace(`${dir}/t[1].parquet`, 0, 2);
  const one = await openTrace(`${dir}/t[1].parquet`, { defaultZone: "UTC" });
  try {
    assert.equal((await one.meta()).rows, 2);
    assert.doesNotMatch((await one.meta()).notices.join(" "), /files, read as one/);
  } finally {
    await one.close();
  }
  await assert.rejects(openTrace(`${dir}/[z-a].parquet`), /not a glob sysmon can read/);
});

Deno.test("a directory view keeps its outputs and events inside the directory, hidden", async () => {
  const dir = tempDir();
  trace(`${dir}/a.parquet`, 0, 2);
  const session = new LiveSession({ file: dir });
  const glob = new LiveSession({ file: `${dir}/*.parquet` });
  try {
    assert.equal(session.dataDir, dir);
    assert.equal(session.events.path, `${dir}/.sysmon.events.csv`);
    assert.equal(glob.dataDir, dir);
    assert.equal(glob.events.path, `${dir}/.sysmon-_.parquet.events.csv`);
  } finally {
    await session.close();
    await glob.close();
  }
});
