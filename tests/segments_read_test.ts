// A trace written as several files (`trace.parquet`, `trace.0001.parquet`, …, and its journal)
// reads as one: the data layer, directory and glob views, the follower and the page's change
// stamp, with pieces merged into their segment (renamed over, then deleted) on the way.
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { columnDef, type Row } from "../src/schema/columns.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { traceMetadata } from "../src/store/metadata.ts";
import { Journal, journalPath } from "../src/store/journal.ts";
import { segmentPath } from "../src/store/segments.ts";
import { openTrace } from "../src/query/source.ts";
import { FileFollower } from "../src/live/follower.ts";
import { fileState } from "../src/server/trace_holder.ts";
import type { TraceSource } from "../src/views/types.ts";
import { tempDir } from "./helpers.ts";

const T0 = 1_795_000_000_000_000; // µs UTC: 2026-11-18T11:06:40Z
const at = (i: number) => T0 / 1000 + i * 1000; // row i's instant, ms
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
const row = (i: number): Row => ({
  timestamp: T0 + i * 1_000_000,
  sys_total: 1000 + i,
  load_1m: i / 4,
  processes: [proc(100 + i)],
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Writes rows [from, to) of trace `id` to `path`, as the writer does (first_row included). */
function writeFile(path: string, from: number, to: number, id = "t1") {
  const t = new ParquetTrace({ path, utc: true });
  t.add(range(from, to).map(row), (n) => columnDef(n)!);
  t.fold({
    ...traceMetadata({ utc: true, sampleInterval: 1, traceId: id }, t.columns),
    "sysmon.first_row": String(from),
  });
}

/** Writes rows [from, to) elsewhere, then renames the file over `path` (a merge). */
function renameOver(path: string, from: number, to: number) {
  const tmp = `${path}.merging`;
  writeFile(tmp, from, to);
  Deno.renameSync(tmp, path);
}

/** A journal beside `base` holding rows [from, to) (by their global index). */
function journal(base: string, from: number, to: number) {
  const j = new Journal(journalPath(base));
  j.reset({ sysmon_journal: 1, trace_id: "t1", utc: true, sample_interval_s: 1 });
  j.append(range(from, to).map((i) => ({ seq: i, row: row(i) })));
}

async function csvValues(src: TraceSource): Promise<number[]> {
  let csv = "";
  for await (const c of src.exportCsv({ columns: ["sys_total"] })) csv += c;
  const lines = csv.trim().split("\n");
  assert.equal(lines[0], "timestamp,sys_total");
  return lines.slice(1).map((l) => Number(l.split(",")[1]));
}

/** trace.parquet rows 0..9, trace.0001 10..19, trace.0002 20..24, the journal 20..29. */
function segmented(dir = tempDir()) {
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  writeFile(segmentPath(base, 1), 10, 20);
  writeFile(segmentPath(base, 2), 20, 25);
  journal(base, 20, 30); // 20..24 folded already, the journal not started over yet
  return { dir, base };
}

Deno.test("openTrace() reads a trace, its segments and its journal as one", async () => {
  const { base } = segmented();
  const src = await openTrace(base, { defaultZone: "UTC" });
  try {
    const meta = await src.meta();
    assert.equal(meta.rows, 30, "each row once: the journal's folded rows are not counted");
    assert.equal(meta.file, base);
    assert.equal(meta.first, at(0));
    assert.equal(meta.last, at(29));
    assert.equal(meta.metadata["sysmon.first_row"], undefined, "one file's key, not the whole's");
    assert.match(meta.notices.join("\n"), /trace\.parquet and 2 later file\(s\) of its trace/);

    const s = await src.series({ columns: ["sys_total"], points: 1000 });
    assert.equal(s.rows, 30);
    assert.deepEqual(s.series.sys_total, range(1000, 1030));
    assert.deepEqual(s.t, range(0, 30).map(at));

    assert.deepEqual(await csvValues(src), range(1000, 1030), "every row once, in order");

    const p = await src.processesAt(at(15)); // a row of trace.0001.parquet
    assert.equal(p.at, at(15));
    assert.deepEqual(p.processes.map((x) => x.pid), [115]);
    assert.deepEqual((await src.processesAt(at(27))).processes.map((x) => x.pid), [127]);
  } finally {
    await src.close();
  }
});

Deno.test("processesAt() over files answers the nearest sample of any, the earlier on a tie", async () => {
  const base = `${tempDir()}/trace.parquet`;
  writeFile(base, 0, 10);
  writeFile(segmentPath(base, 1), 20, 30); // 10 s without samples between the files
  writeFile(segmentPath(base, 2), 30, 40);
  const src = await openTrace(base, { defaultZone: "UTC" });
  try {
    const pid = async (t: number) => (await src.processesAt(t)).processes.map((x) => x.pid);
    assert.deepEqual(await pid(at(13)), [109], "4 s after the first file, 7 s before the next");
    assert.deepEqual(await pid(at(16)), [120]);
    assert.deepEqual(await pid(at(14) + 500), [109], "as near to both: the earlier");
    assert.deepEqual(await pid(at(35)), [135]);
    assert.deepEqual(await pid(at(-50)), [100]);
    const late = await src.processesAt(at(500));
    assert.equal(late.at, at(39));
    assert.deepEqual(late.processes.map((x) => x.pid), [139]);
  } finally {
    await src.close();
  }
});

Deno.test("a piece whose rows its segment holds as well is read once", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  writeFile(segmentPath(base, 1), 10, 20); // merged: pieces 2 and 3 were folded into it
  writeFile(segmentPath(base, 2), 10, 15); // not deleted yet (or a crash in between)
  writeFile(segmentPath(base, 3), 15, 20);
  writeFile(segmentPath(base, 4), 20, 22);
  writeFile(segmentPath(base, 5), 20, 22); // the same range twice: the first is kept
  const src = await openTrace(base, { defaultZone: "UTC" });
  try {
    assert.equal((await src.meta()).rows, 22);
    assert.deepEqual(await csvValues(src), range(1000, 1022));
    const s = await src.series({ columns: ["sys_total"], points: 1000 });
    assert.deepEqual(s.series.sys_total, range(1000, 1022));
  } finally {
    await src.close();
  }
});

Deno.test("segments that appear, merges and deletions between two answers are seen", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  const src = await openTrace(base, { defaultZone: "UTC" });
  try {
    const alone = await src.meta();
    assert.equal(alone.rows, 10);
    assert.doesNotMatch(alone.notices.join(" "), /later file/, "no segments: the file as it is");
    const before = await fileState(base);

    writeFile(segmentPath(base, 1), 10, 13); // a piece per fold
    assert.equal((await src.meta()).rows, 13);
    const after = await fileState(base);
    assert.ok(before.kind === "present" && after.kind === "present");
    assert.notEqual(after.version, before.version, "a new segment is a change of the trace");

    writeFile(segmentPath(base, 2), 13, 16);
    assert.deepEqual(await csvValues(src), range(1000, 1016));
    renameOver(segmentPath(base, 1), 10, 16); // the merge: 1 holds 2's rows too ...
    assert.deepEqual(await csvValues(src), range(1000, 1016));
    Deno.removeSync(segmentPath(base, 2)); // ... then the piece goes
    assert.deepEqual(await csvValues(src), range(1000, 1016));
    assert.equal((await src.meta()).rows, 16);
    writeFile(segmentPath(base, 2), 16, 18); // the next segment
    journal(base, 18, 20);
    const s = await src.series({ columns: ["sys_total"], points: 1000 });
    assert.deepEqual(s.series.sys_total, range(1000, 1020));
  } finally {
    await src.close();
  }
});

Deno.test("a trace whose own file is missing but whose segments are there is said so", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(segmentPath(base, 1), 10, 20);
  await assert.rejects(
    openTrace(base),
    /trace\.parquet is missing, but 1 later file.*trace\.\*parquet/,
  );
  assert.equal((await fileState(base)).kind, "present", "the page shows the reason");
  const segments = await openTrace(`${dir}/trace.*parquet`, { defaultZone: "UTC" });
  try {
    assert.equal((await segments.meta()).rows, 10, "the glob reads them");
  } finally {
    await segments.close();
  }
});

Deno.test("a glob or a directory of a segmented trace counts each row once", async () => {
  const { dir, base } = segmented();
  writeFile(segmentPath(base, 3), 20, 23); // a piece segment 2 holds as well
  writeFile(`${dir}/other.parquet`, 100, 105, "t2"); // another trace beside it
  const glob = await openTrace(`${dir}/trace.*parquet`, { defaultZone: "UTC" });
  const whole = await openTrace(dir, { defaultZone: "UTC" });
  const some = await openTrace(`${dir}/trace.000[12].parquet`, { defaultZone: "UTC" });
  try {
    const g = await glob.meta();
    assert.equal(g.rows, 30, "the files and the journal, once");
    assert.match(g.notices.join("\n"), /4 files, read as one trace/);
    assert.deepEqual(await csvValues(glob), range(1000, 1030));
    const d = await whole.meta();
    assert.equal(d.rows, 35);
    assert.deepEqual(await csvValues(whole), [...range(1000, 1030), ...range(1100, 1105)]);
    const s = await whole.series({ columns: ["sys_total"], points: 1000 });
    // the other trace starts 70 s after this one's last row: a hole, a null inside it (gaps.ts)
    assert.deepEqual(s.series.sys_total, [...range(1000, 1030), null, ...range(1100, 1105)]);
    // Segments without the trace's own file: their rows, not the journal's.
    assert.equal((await some.meta()).rows, 15);
    assert.deepEqual(await csvValues(some), range(1010, 1025));
  } finally {
    await glob.close();
    await whole.close();
    await some.close();
  }
});

Deno.test("native DuckDB's read_parquet('trace.*parquet') counts the rows openTrace() does", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  writeFile(segmentPath(base, 1), 10, 20);
  writeFile(segmentPath(base, 2), 20, 25);
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  const src = await openTrace(base, { defaultZone: "UTC" });
  try {
    const glob = `${dir}/trace.*parquet`.replaceAll("'", "''");
    const [r] = (await con.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, sum(sys_total)::INTEGER AS s FROM read_parquet('${glob}')`,
    )).getRowObjects();
    assert.equal(r!.n, (await src.meta()).rows);
    assert.equal(r!.s, (await csvValues(src)).reduce((a, b) => a + b, 0));
  } finally {
    await src.close();
    con.closeSync();
  }
});

Deno.test("a follower passes every row once while segments appear and pieces are merged", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  const follower = new FileFollower(base);
  const seen: number[] = [];
  follower.subscribe((r) => seen.push(r.row.sys_total as number));
  await follower.start(); // from the files' end
  follower.stop();
  const look = async () => {
    await follower.poll();
    assert.equal(follower.problem, null);
  };

  journal(base, 10, 13);
  await look();
  writeFile(segmentPath(base, 1), 10, 15); // a fold writes a piece, then starts the journal over
  await look(); // the journal still holds 10..12: read from it, once
  journal(base, 15, 17);
  await look();
  writeFile(segmentPath(base, 2), 15, 18);
  journal(base, 18, 18);
  await look();
  renameOver(segmentPath(base, 1), 10, 18); // the merge, pieces still there
  await look();
  Deno.removeSync(segmentPath(base, 2));
  await look();
  writeFile(segmentPath(base, 2), 18, 20); // the next segment
  await look();
  const footers = follower.files.footersRead;
  journal(base, 20, 22); // only the journal changed: no footer read again
  await look();
  assert.equal(follower.files.footersRead, footers);
  // A merge the follower sees half-way: segment 3 read up to row 23, then merged into 2.
  writeFile(segmentPath(base, 3), 20, 23);
  journal(base, 23, 24);
  await look();
  renameOver(segmentPath(base, 2), 18, 24);
  Deno.removeSync(segmentPath(base, 3));
  writeFile(segmentPath(base, 3), 24, 26);
  journal(base, 26, 26);
  await look();
  assert.deepEqual(seen, range(1010, 1026), "every row after the start, once, in order");
});

Deno.test("a follower goes on past rows that no file holds (a piece lost) and passes the rest", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  const follower = new FileFollower(base);
  const seen: number[] = [];
  follower.subscribe((r) => seen.push(r.row.sys_total as number));
  await follower.start();
  follower.stop();
  writeFile(segmentPath(base, 2), 15, 18); // rows 10..14 are in no file
  await follower.poll();
  assert.equal(follower.problem, null);
  assert.deepEqual(seen, range(1015, 1018));
});
