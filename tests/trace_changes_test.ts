// What a trace source keeps between answers (each file's version, its last meta) never hides a
// change from the next answer: a segment that appears, one removed, a file replaced atomically,
// a CSV's `.meta.json` sidecar changed; a Parquet file's version does not read the sidecar.
import assert from "node:assert/strict";
import { columnDef, type Row } from "../src/schema/columns.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { traceMetadata } from "../src/store/metadata.ts";
import { segmentPath } from "../src/store/segments.ts";
import { openTrace } from "../src/query/source.ts";
import type { TraceSource } from "../src/views/types.ts";
import { tempDir } from "./helpers.ts";

const T0 = 1_795_000_000_000_000; // µs UTC
const row = (i: number, k = 0): Row => ({ timestamp: T0 + i * 1_000_000, sys_total: 1000 + i + k });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Rows [from, to) of trace t1, renamed into place as the writer does (store/atomic.ts). */
function writeFile(path: string, from: number, to: number, k = 0) {
  const t = new ParquetTrace({ path, utc: true });
  t.add(range(from, to).map((i) => row(i, k)), (n) => columnDef(n)!);
  t.fold({
    ...traceMetadata({ utc: true, sampleInterval: 1, traceId: "t1" }, t.columns),
    "sysmon.first_row": String(from),
  });
}

const values = async (src: TraceSource) =>
  (await src.series({ columns: ["sys_total"], points: 1000 })).series.sys_total;

Deno.test("segments that appear, go or are replaced are seen by the next answer", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  writeFile(segmentPath(base, 1), 10, 20);
  for (const path of [base, dir]) { // the trace, and the directory view of it
    const src = await openTrace(path, { defaultZone: "UTC", warm: false });
    try {
      assert.deepEqual(await values(src), range(1000, 1020));
      assert.equal((await src.meta()).rows, 20);

      writeFile(segmentPath(base, 2), 20, 25); // a new segment
      assert.equal((await src.meta()).rows, 25);
      assert.deepEqual(await values(src), range(1000, 1025));

      Deno.removeSync(segmentPath(base, 2)); // one removed
      assert.deepEqual(await values(src), range(1000, 1020));
      assert.equal((await src.meta()).rows, 20);

      writeFile(segmentPath(base, 1), 10, 20, 500); // replaced: renamed over
      assert.deepEqual(await values(src), [...range(1000, 1010), ...range(1510, 1520)]);
      writeFile(segmentPath(base, 1), 10, 20); // back, for the next path
    } finally {
      await src.close();
    }
  }
});

Deno.test("a CSV trace reads its changed sidecar; a Parquet one does not read it", async () => {
  const dir = tempDir();
  const csv = `${dir}/t.csv`;
  Deno.writeTextFileSync(csv, "timestamp,sys_total\n2026-11-25 19:47:39.000000,1\n");
  const sidecar = (host: string) =>
    Deno.writeTextFileSync(`${csv}.meta.json`, JSON.stringify({ "sysmon.host": host }));
  sidecar("a");
  const src = await openTrace(csv, { defaultZone: "UTC", warm: false });
  try {
    assert.equal((await src.meta()).host, "a");
    const m = await src.meta(); // the caller's to change: the next answer is as before
    m.notices.push("mine");
    m.metadata.x = "mine";
    m.columns[0]!.unit = "mine";
    const again = await src.meta();
    assert.ok(!again.notices.includes("mine") && again.metadata.x === undefined);
    assert.notEqual(again.columns[0]!.unit, "mine");
    sidecar("bbb"); // the CSV unchanged, its sidecar not
    assert.equal((await src.meta()).host, "bbb");
    Deno.removeSync(`${csv}.meta.json`);
    assert.equal((await src.meta()).host, null);
  } finally {
    await src.close();
  }

  const pq = `${dir}/t.parquet`;
  writeFile(pq, 0, 3);
  let reads = 0;
  const p = await openTrace(pq, { defaultZone: "UTC", warm: false, afterRead: () => void reads++ });
  try {
    const before = await p.meta();
    const readsBefore = reads;
    Deno.writeTextFileSync(`${pq}.meta.json`, JSON.stringify({ "sysmon.host": "ignored" }));
    assert.deepEqual(await p.meta(), before);
    assert.equal(reads, readsBefore, "the Parquet file is not read again for its sidecar");
    writeFile(pq, 0, 4); // while its own change is
    assert.equal((await p.meta()).rows, 4);
    assert.equal(reads, readsBefore + 1);
  } finally {
    await p.close();
  }
});

Deno.test("a trace closed while an answer is still asked of it answers, then frees its file", async () => {
  const dir = tempDir();
  const base = `${dir}/trace.parquet`;
  writeFile(base, 0, 10);
  writeFile(segmentPath(base, 1), 10, 20);
  // The descriptors open on the trace's files (other tests run in this process too).
  const open = () =>
    Deno.readDirSync("/proc/self/fd").filter((e) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(`${dir}/`);
      } catch {
        return false; // closed meanwhile
      }
    }).toArray().length;
  for (const path of [base, dir]) {
    const src = await openTrace(path, { defaultZone: "UTC", warm: false });
    assert.equal((await src.meta()).rows, 20);
    assert.ok(open() > 0, "a version holds its files open");
    await src.close(); // replaced by another reading (src/server/comparison.ts) meanwhile
    assert.equal(open(), 0);
    assert.deepEqual(await values(src), range(1000, 1020));
    assert.equal((await src.meta()).rows, 20);
    assert.equal(open(), 0, "nothing left open once answered");
  }
});
