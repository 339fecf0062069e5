// Per-process history over a range (src/query/process_series.ts, process_merge.ts): every
// process seen, with when and how busy, found by name, command line or PID; the top processes
// of each metric with their series bucketed to a chart's width; one process's own history.
// Over one Parquet file, several files of one trace, the rows only a journal holds, sysmon's
// CSV, and the original tool's files (no processes: said so).
import assert from "node:assert/strict";
import { columnDef, type ProcessRecord, type Row } from "../src/schema/columns.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { traceMetadata } from "../src/store/metadata.ts";
import { Journal, journalPath } from "../src/store/journal.ts";
import { segmentPath } from "../src/store/segments.ts";
import { CsvSink } from "../src/store/csv_sink.ts";
import { openTrace } from "../src/query/source.ts";
import { topOrders, topProcesses } from "../src/query/process_merge.ts";
import type { ProcessKey, ProcessSummary, TraceSource } from "../src/views/types.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";
import { tempDir } from "./helpers.ts";
import { BURST, proc, processRow, T0, writeProcessTrace } from "./process_trace.ts";

const ROWS = 10_000;
const row = (i: number) => processRow(i, ROWS);
const writeRows = (path: string, from: number, to: number) => writeProcessTrace(path, from, to);

async function withSource<T>(path: string, fn: (s: TraceSource) => Promise<T>) {
  const s = await openTrace(path, { defaultZone: "UTC" });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const named = (list: ProcessSummary[]) => list.map((p) => `${p.name} (${p.pid})`);
const burstKey: ProcessKey = { pid: BURST.pid, name: BURST.name };

/** What every kind of trace must answer about the burst, over the whole range. */
async function checkBurst(s: TraceSource, total = 8) {
  const meta = await s.meta();
  // The list over the whole trace: the burst is among the top by CPU peak, and found by name.
  const top = await s.processList({ orders: topOrders(5) });
  assert.equal(top.recorded, true);
  assert.equal(top.total, total, "6 PIDs, one of them two programs, and the burst");
  const cpu = topProcesses(top.processes, "cpu", 5);
  assert.ok(named(cpu).includes("burst-xq7 (4242)"), named(cpu).join(", "));
  assert.equal(named(cpu)[0], "burst-xq7 (4242)", "the highest peak ranks first");
  assert.ok(named(cpu).includes("python3 (102)"), "and the steady load too");
  const io = topProcesses(top.processes, "io", 5);
  assert.deepEqual(named(io), ["burst-xq7 (4242)", "nginx (101)"], "processes with no I/O: not");
  assert.deepEqual(topProcesses(top.processes, "gpu", 5), [], "no GPU memory: no process");

  for (const search of ["XQ7", "burst", "4242", "--serve", "/usr/bin/burst"]) {
    const found = await s.processList({ search, orders: [{ by: "cpu_peak", limit: 50 }] });
    const b = found.processes.find((p) => p.pid === BURST.pid);
    assert.ok(b, `found by '${search}'`);
    assert.equal(b.first, T0 + BURST.from * 1000);
    assert.equal(b.last, T0 + (BURST.to - 1) * 1000);
    assert.equal(b.samples, 10);
    assert.equal(b.peak.cpu, 180);
    assert.equal(b.sum.cpu, 1800);
    assert.equal(b.cmdline, "/usr/bin/burst-xq7 --serve");
  }
  const pidReuse = await s.processList({ search: "105", orders: [{ by: "last", limit: 10 }] });
  assert.deepEqual(named(pidReuse.processes).sort(), ["other (105)", "worker (105)"]);
  const none = await s.processList({ search: "no such", orders: [{ by: "cpu_peak", limit: 10 }] });
  assert.deepEqual([none.total, none.processes.length], [0, 0]);

  // Its series over the whole trace, bucketed to 800 positions: values where it lived only.
  const all = await s.processSeries({
    keys: [burstKey, { pid: 102, name: "python3" }],
    points: 800,
  });
  assert.equal(all.rows, meta.rows);
  assert.ok(all.t.length <= 800 && all.t.length >= 400, `${all.t.length} positions`);
  assert.deepEqual(all.t, [...all.t].sort((a, b) => a - b));
  const b = all.series[0]!;
  assert.deepEqual([b.pid, b.name], [BURST.pid, BURST.name]);
  const where = b.values.cpu.flatMap((v, i) => (v === null ? [] : [all.t[i]!]));
  assert.ok(where.length >= 1 && where.length <= 2, `${where.length} buckets`);
  assert.ok(where.every((t) => t >= T0 + (BURST.from - 20) * 1000 && t < T0 + BURST.to * 1000));
  assert.ok(b.values.cpu.every((v) => v === null || v === 180));
  assert.ok(b.values.io.some((v) => v === 5e7), "I/O: read + write");
  assert.ok(all.series[1]!.values.cpu.every((v) => v !== null && v >= 30), "steady: everywhere");
  assert.ok(all.series[1]!.values.cpu.some((v) => v === 40), "the highest of each bucket");

  // Its own history: over its lifetime, one position a sample.
  const own = await s.processSeries({
    keys: [burstKey],
    start: T0 + BURST.from * 1000,
    end: T0 + (BURST.to - 1) * 1000,
    points: 800,
  });
  assert.equal(own.t.length, 10);
  assert.deepEqual(own.series[0]!.values.cpu, new Array(10).fill(180));
  assert.deepEqual(own.series[0]!.values.memory, new Array(10).fill(30 * 2 ** 20));
  assert.deepEqual(own.series[0]!.values.threads, new Array(10).fill(4));
  assert.deepEqual(own.series[0]!.values.read, new Array(10).fill(5e7));
  assert.deepEqual(own.series[0]!.values.write, new Array(10).fill(null));
}

Deno.test("one Parquet file: a process of 10 samples in 10,000 is in the list, the top CPU series and its own history", async () => {
  const path = `${tempDir()}/t.parquet`;
  writeRows(path, 0, ROWS);
  await withSource(path, async (s) => {
    await checkBurst(s);
    // A range that leaves it out does not list it.
    const early = await s.processList({
      start: T0,
      end: T0 + 3_600_000,
      orders: topOrders(5),
    });
    assert.ok(!named(early.processes).includes("burst-xq7 (4242)"));
    assert.equal(early.total, 6);
    const w = early.processes.find((p) => p.name === "worker")!;
    assert.deepEqual([w.first, w.last, w.samples], [T0, T0 + 3_600_000, 3601]);
  });
});

Deno.test("a trace in several files and a journal: the burst in the second file and the journal's rows are found", async () => {
  const base = `${tempDir()}/trace.parquet`;
  writeRows(base, 0, 3600);
  writeRows(segmentPath(base, 1), 3600, 7200); // holds the burst
  writeRows(segmentPath(base, 2), 7200, 9990);
  // The last 10 rows are only in the journal, with a process of their own.
  const j = new Journal(journalPath(base));
  j.reset({ sysmon_journal: 1, trace_id: "p1", utc: true, sample_interval_s: 1 });
  j.append(
    Array.from({ length: 10 }, (_, k) => {
      const i = 9990 + k;
      const r = row(i);
      (r.processes as ProcessRecord[]).push(proc(777, "journal-only", 150, 2 ** 20));
      return { seq: i, row: r };
    }),
  );
  await withSource(base, async (s) => {
    assert.equal((await s.meta()).rows, ROWS);
    const list = await s.processList({ orders: topOrders(5) });
    assert.ok(named(topProcesses(list.processes, "cpu", 5)).includes("journal-only (777)"));
    const found = await s.processList({ search: "journal", orders: [{ by: "last", limit: 5 }] });
    assert.deepEqual(named(found.processes), ["journal-only (777)"]);
    assert.equal(found.processes[0]!.samples, 10);
    const r = await s.processSeries({ keys: [{ pid: 777, name: "journal-only" }], points: 800 });
    assert.equal(r.rows, ROWS);
    assert.deepEqual(r.series[0]!.values.cpu.slice(-10), new Array(10).fill(150));
    assert.equal(r.t.at(-1), T0 + (ROWS - 1) * 1000);
    // The journal's process aside, the trace answers as one file does.
    await checkBurst(s, 9);
  });
});

Deno.test("sysmon's CSV (lists as JSON text) answers the same; the original tool's files have no processes", async () => {
  const path = `${tempDir()}/t.csv`;
  const sink = CsvSink.open({ path, utc: true, sampleInterval: 1 });
  for (let i = 0; i < 600; i++) sink.add(row(5700 + i));
  assert.equal(sink.write().error, null);
  await withSource(path, async (s) => {
    const list = await s.processList({ orders: topOrders(3) });
    assert.equal(list.recorded, true);
    assert.equal(named(topProcesses(list.processes, "cpu", 3))[0], "burst-xq7 (4242)");
    const r = await s.processSeries({ keys: [burstKey], points: 100 });
    assert.equal(r.rows, 600);
    assert.ok(r.t.length <= 100);
    assert.equal(r.series[0]!.values.cpu.filter((v) => v === 180).length >= 1, true);
  });
  const original = `${tempDir()}/o.parquet`;
  Deno.writeFileSync(
    original,
    originalParquetBytes(originalRows({ start: T0, n: 5 }), { tz: "utc" }),
  );
  await withSource(original, async (s) => {
    const list = await s.processList({ orders: topOrders(5) });
    assert.deepEqual([list.recorded, list.total, list.processes], [false, 0, []]);
    const r = await s.processSeries({ keys: [burstKey], points: 100 });
    assert.deepEqual(r.series[0]!.values.cpu, new Array(r.t.length).fill(null));
  });
});

Deno.test("a hostile process name is data: quotes and SQL in it are matched as text", async () => {
  const path = `${tempDir()}/h.parquet`;
  const evil = `x'); DROP TABLE t; --<script>\n`;
  const t = new ParquetTrace({ path, utc: true });
  t.add(
    [0, 1, 2].map((i) => ({
      timestamp: (T0 + i * 1000) * 1000,
      processes: [proc(9, evil, 50, 2 ** 20)],
    })),
    (n) => columnDef(n)!,
  );
  t.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: "h" }, t.columns));
  await withSource(path, async (s) => {
    const found = await s.processList({ search: "'); drop", orders: [{ by: "last", limit: 5 }] });
    assert.deepEqual(named(found.processes), [`${evil} (9)`]);
    const r = await s.processSeries({ keys: [{ pid: 9, name: evil }], points: 10 });
    assert.deepEqual(r.series[0]!.values.cpu, [50, 50, 50]);
  });
});

Deno.test("a list over several files ranks processes by the whole range, not by each file's top", async () => {
  const path = `${tempDir()}/parts.parquet`;
  // File 1: steady (10 %) and y (15 %); file 2: steady and z (15 %). Over both, steady's sum
  // (2,000) beats y's and z's (1,500 each), though it is second in each file.
  for (const [n, other] of [[0, "y"], [1, "z"]] as const) {
    const t = new ParquetTrace({ path: segmentPath(path, n), utc: true });
    const rows: Row[] = [];
    for (let i = n * 100; i < n * 100 + 100; i++) {
      rows.push({
        timestamp: (T0 + i * 1000) * 1000,
        cpu_busy_percent: 10,
        processes: [proc(1, "steady", 10, 2 ** 20), proc(2 + n, other, 15, 2 ** 20)],
      });
    }
    t.add(rows, (c) => columnDef(c)!);
    t.fold({
      ...traceMetadata({ utc: true, sampleInterval: 1, traceId: "parts" }, t.columns),
      "sysmon.first_row": String(n * 100),
    });
  }
  const src = await openTrace(path, { defaultZone: "UTC" });
  try {
    const top = await src.processList({ orders: [{ by: "cpu_sum", limit: 1 }] });
    assert.deepEqual(top.processes.map((p) => [p.name, p.sum.cpu, p.samples]), [
      ["steady", 2000, 200],
    ]);
    assert.equal(top.total, 3);
  } finally {
    await src.close();
  }
});
