// The tracer's summary blocks: written beside each row group, read by `serve` for long
// ranges, and giving exactly the answer a scan of every row gives.
import assert from "node:assert/strict";
import { type ColumnDef, columnDef, type Row } from "../src/schema/columns.ts";
import { ParquetTrace, readFooter } from "../src/store/parquet_trace.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import {
  blockOf,
  buildBlock,
  decodeBlock,
  encodeBlock,
  parseSummaryIndex,
  SUMMARY_KEY,
  summaryWidthFor,
} from "../src/store/summary_block.ts";
import { openTrace } from "../src/query/source.ts";
import type { SeriesResult, TraceSource } from "../src/views/types.ts";
import { readParquet, tempDir } from "./helpers.ts";

const defOf = (name: string): ColumnDef =>
  columnDef(name) ?? { name, kind: name.startsWith("n_") ? "int64" : "double", unit: "", help: "" };

/**
 * A trace of `rows` samples a second from wall time `start` (ms): random doubles with
 * spikes, integers with many ties, a column that appears at row 12,000 and one with a
 * stretch of nulls. Folded every row group, the last left open.
 */
function writeTrace(
  path: string,
  opts: { rows: number; start: number; utc: boolean; zone?: string; codec?: "UNCOMPRESSED" },
) {
  const trace = new ParquetTrace({
    path,
    utc: opts.utc,
    rowGroupRows: 3600,
    summaryWidth: 10_000,
    codec: opts.codec,
  });
  const info = { utc: opts.utc, sampleInterval: 1, traceId: newTraceId() };
  const meta = () => ({
    ...traceMetadata(info, trace.columns),
    ...(opts.zone ? { "sysmon.tz_name": opts.zone } : {}),
  });
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  let batch: Row[] = [];
  for (let i = 0; i < opts.rows; i++) {
    const row: Row = {
      timestamp: (opts.start + i * 1000) * 1000,
      cpu_busy_percent: i % 997 === 0 ? 100 : Math.round(rand() * 5000) / 100,
      n_tasks: 100 + Math.floor(rand() * 4),
      sys_used: 8e9 + Math.floor(rand() * 1e6),
      maybe: i >= 5000 && i < 9000 ? null : rand() * 10 - 5,
    };
    if (i >= 12_000) row.late = rand();
    batch.push(row);
    if (batch.length === 1000 || i === opts.rows - 1) {
      trace.add(batch, defOf);
      trace.fold(meta());
      batch = [];
    }
  }
  // Part of the last group is in the file, the rest arrives with one more fold.
  return trace;
}

const COLUMNS = ["cpu_busy_percent", "n_tasks", "sys_used", "maybe", "late"];

async function both(path: string, zone: string, fn: (a: TraceSource, b: TraceSource) => unknown) {
  // `a` reads the file's summaries from 1,000 rows on; `b` always scans every row.
  const a = await openTrace(path, { defaultZone: zone, warm: false, summaryMinRows: 1000 });
  const b = await openTrace(path, { defaultZone: zone, warm: false, summaryMinRows: 1e15 });
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * Answers equal, but for the order of a bucket's two extremes where a value occurs more than
 * once (DuckDB's arg_min and arg_max pick any of the tied rows).
 */
function assertSame(a: SeriesResult, b: SeriesResult, what: string) {
  assert.deepEqual({ ...a, series: {} }, { ...b, series: {} }, what);
  for (const [name, xs] of Object.entries(a.series)) {
    const ys = b.series[name]!;
    assert.equal(xs.length, ys.length, `${what}: ${name}`);
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] === ys[i]) continue;
      const swapped = xs[i] === ys[i + 1] && xs[i + 1] === ys[i];
      assert.ok(swapped, `${what}: ${name}[${i}] is ${xs[i]}, a scan gives ${ys[i]}`);
      i++;
    }
  }
}

async function sameAnswers(a: TraceSource, b: TraceSource) {
  const meta = await a.meta();
  const first = meta.first!, last = meta.last!;
  const ranges: [number | undefined, number | undefined][] = [
    [undefined, undefined],
    [first - 3_600_000, last + 3_600_000],
    [last - 2 * 3_600_000, last],
    [first + 12_345_678, first + 25_000_001],
  ];
  let used = 0;
  for (const [start, end] of ranges) {
    for (const points of [100, 400, 1000]) {
      const q = { columns: COLUMNS, start, end, points };
      const [ra, rb] = [await a.series(q), await b.series(q)];
      assertSame(ra, rb, `range ${start}..${end} at ${points} points`);
      if (ra.reduced) used++;
    }
  }
  assert.ok(used >= 6, "most answers are reduced");
}

Deno.test("summary blocks: encode and decode round trip, extremes in order, nulls as gaps", () => {
  const ts = Float64Array.from([0, 1e6, 2e6, 10e6, 11e6, 25e6], (x) => x + 1.7e15);
  const v = {
    name: "x",
    nums: Float64Array.from([3, 9, 1, 5, 2.5, 7]),
    nulls: Uint8Array.from([0, 0, 0, 1, 1, 0]),
    int: false,
  };
  const block = buildBlock(10_000, 6, ts, [v]);
  const back = blockOf(decodeBlock(encodeBlock(block)));
  assert.deepEqual([...back.b], [170_000_000, 170_000_001, 170_000_002]);
  assert.deepEqual([...back.n], [3, 2, 1]);
  assert.deepEqual([...back.t0], [1.7e12, 1.7e12 + 10_000, 1.7e12 + 25_000]);
  const c = back.columns[0]!;
  assert.deepEqual([...c.lo].map(String), ["1", "NaN", "7"]);
  assert.deepEqual([...c.hi].map(String), ["9", "NaN", "7"]);
  assert.deepEqual([...c.maxFirst], [1, 0, 0]); // 9 (row 1) before 1 (row 2)
  assert.throws(() => decodeBlock(encodeBlock(block).subarray(0, 40)), /size does not match/);
  assert.equal(summaryWidthFor(1), 100_000);
  assert.equal(summaryWidthFor(0.1), 10_000);
  assert.equal(summaryWidthFor(60), 100_000);
});

Deno.test("a trace's summaries give serve exactly the answers of a full scan (UTC)", async () => {
  const path = `${tempDir()}/utc.parquet`;
  writeTrace(path, { rows: 20_000, start: Date.UTC(2026, 0, 5), utc: true });
  // The file is still a plain Parquet file: an independent reader sees every row.
  const { rows } = await readParquet(path);
  assert.equal(rows.length, 20_000);
  const footer = readFooter(path).meta;
  const index = parseSummaryIndex(
    footer.key_value_metadata?.find((e) => e.key === SUMMARY_KEY)?.value,
  );
  assert.ok(index, "the footer indexes the summary blocks");
  assert.equal(
    footer.row_groups.length,
    5,
    "4,000 rows a group: sealed at the first fold past 3,600",
  );
  assert.equal(index.blocks.length, 5);
  assert.ok(index.blocks.every((b) => b !== null));
  await both(path, "UTC", sameAnswers);
});

Deno.test("summaries of a local-time trace across a DST start match a scan", async () => {
  const path = `${tempDir()}/local.parquet`;
  // New York's clocks skipped 02:00-03:00 on 2026-03-08; wall times as the tracer writes them.
  const zone = "America/New_York";
  const trace = new ParquetTrace({ path, utc: false, rowGroupRows: 3600, summaryWidth: 10_000 });
  const rows: Row[] = [];
  for (let i = 0; i < 30_000; i++) {
    const instant = Date.UTC(2026, 2, 8, 1, 0, 0) + (i - 10_000) * 1000; // 20:00 EST on
    const offset = instant < Date.UTC(2026, 2, 8, 7, 0, 0) ? -5 : -4; // 02:00 EST = 07:00Z
    rows.push({
      timestamp: (instant + offset * 3_600_000) * 1000,
      cpu_busy_percent: (i * 7919) % 1000 / 10,
      n_tasks: i % 13,
      sys_used: 1e9 + i,
      maybe: i % 3 ? i : null,
      late: i > 15_000 ? i / 3 : null,
    });
  }
  for (let i = 0; i < rows.length; i += 3600) {
    trace.add(rows.slice(i, i + 3600), defOf);
    trace.fold({
      ...traceMetadata({ utc: false, sampleInterval: 1, traceId: "dst" }, trace.columns),
      "sysmon.tz_name": zone,
    });
  }
  await both(path, zone, sameAnswers);
});

Deno.test("serve draws long ranges from the summary blocks, and scans when one is damaged", async () => {
  const dir = tempDir();
  const path = `${dir}/raw.parquet`;
  writeTrace(path, { rows: 12_000, start: Date.UTC(2026, 0, 5), utc: true, codec: "UNCOMPRESSED" });
  const index = parseSummaryIndex(
    readFooter(path).meta.key_value_metadata?.find((e) => e.key === SUMMARY_KEY)?.value,
  )!;
  const [offset, length] = index.blocks[1]!;
  const bytes = Deno.readFileSync(path);
  const block = blockOf(decodeBlock(bytes.slice(offset, offset + length)));
  // Proof that the blocks are read: a minimum that no row holds shows in "All".
  const c = block.columns.find((x) => x.name === "cpu_busy_percent")!;
  c.lo[5] = -4242;
  const lying = encodeBlock(block);
  assert.equal(lying.length, length);
  const patched = `${dir}/patched.parquet`;
  const copy = bytes.slice();
  copy.set(lying, offset);
  Deno.writeFileSync(patched, copy);
  const s = await openTrace(patched, { defaultZone: "UTC", warm: false, summaryMinRows: 1000 });
  try {
    const all = await s.series({ columns: ["cpu_busy_percent"], points: 200 });
    assert.ok(all.series.cpu_busy_percent!.includes(-4242), "All comes from the blocks");
    const meta = await s.meta();
    const near = await s.series({
      columns: ["cpu_busy_percent"],
      start: meta.last! - 600_000,
      end: meta.last!,
      points: 200,
    });
    assert.ok(!near.series.cpu_busy_percent!.includes(-4242), "a short range is scanned");
  } finally {
    await s.close();
  }
  // A damaged block: the same answers as a scan, and the page says why.
  const garbage = bytes.slice();
  garbage.fill(0xee, offset, offset + length);
  const broken = `${dir}/broken.parquet`;
  Deno.writeFileSync(broken, garbage);
  await both(broken, "UTC", async (a, b) => {
    const q = { columns: COLUMNS, points: 300 };
    assertSame(await a.series(q), await b.series(q), "damaged");
    assert.ok(
      (await a.meta()).notices.some((n) => /summaries could not be read/.test(n)),
      "a notice names the damaged summaries",
    );
  });
});

Deno.test("a trace continued by a second run keeps its summaries whole", async () => {
  const path = `${tempDir()}/cont.parquet`;
  writeTrace(path, { rows: 8000, start: Date.UTC(2026, 0, 5), utc: true });
  const again = ParquetTrace.open({ path, utc: true, summaryWidth: 100_000 });
  assert.equal(again.summaryWidth, 10_000, "the file's width wins");
  const more: Row[] = [];
  for (let i = 0; i < 5000; i++) {
    more.push({
      timestamp: (Date.UTC(2026, 0, 5) + (9000 + i) * 1000) * 1000,
      cpu_busy_percent: i % 100,
      n_tasks: 5,
    });
  }
  again.add(more, defOf);
  again.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: "x" }, again.columns));
  const index = parseSummaryIndex(
    readFooter(path).meta.key_value_metadata?.find((e) => e.key === SUMMARY_KEY)?.value,
  )!;
  assert.equal(index.blocks.length, 3);
  assert.ok(index.blocks.every((b) => b !== null));
  await both(path, "UTC", sameAnswers);
});
