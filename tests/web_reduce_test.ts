import assert from "node:assert/strict";
import { engine } from "../src/query/engine.ts";
import {
  aggregate,
  bucketWidth,
  canUseSummary,
  compact,
  extendSummary,
  reduceSeries,
  requestWidth,
  summaryWidth,
} from "../src/query/reduce.ts";

const BASE = Date.UTC(2026, 2, 29, 0, 0, 0);

/** Value i of the synthetic series, the same formula in SQL and in JS. */
const VALUE_SQL = `CASE WHEN i = 54321 THEN 1000000.0 WHEN i = 77777 THEN -500.0
  ELSE ((i * 7919) % 1000) / 10.0 END`;
const value = (i: number) => (i === 54321 ? 1e6 : i === 77777 ? -500 : ((i * 7919) % 1000) / 10);

/** The rows of `sql` from `start` to `end`, as reduceSeries asks for them. */
const within = (sql: string) => (start: number, end: number) =>
  `SELECT * FROM (${sql}) WHERE t BETWEEN ${start} AND ${end}`;

/** n rows one second apart: t, c0 (the series above), c1 (null for i in [2000, 2999]). */
function relation(n: number, step = 1000) {
  return `SELECT (${BASE} + i * ${step})::BIGINT AS t, (${VALUE_SQL})::DOUBLE AS c0,
    CASE WHEN i BETWEEN 2000 AND 2999 THEN NULL ELSE (i % 17)::DOUBLE END AS c1
    FROM range(${n}) r(i)`;
}

async function reduce(n: number, points: number, step = 1000) {
  const e = await engine();
  return reduceSeries({
    query: (sql) => e.query(sql),
    relation: within(relation(n, step)),
    columns: 2,
    start: BASE,
    end: BASE + (n - 1) * step,
    points,
  });
}

Deno.test("bucketWidth() rounds up to a width that keeps the bucket count", () => {
  assert.equal(bucketWidth(1000, 1000), 1);
  assert.equal(bucketWidth(999_000, 499), 2500); // 2002 ms → 2.5 s
  assert.equal(bucketWidth(1_000_000_000, 499), 2_500_000); // 33.4 min → 41.7 min
  assert.equal(bucketWidth(30 * 60_000, 499), 4000); // 30 min in 499: 3.6 s → 4 s
});

Deno.test("bucketWidth() never gives more buckets than asked for", () => {
  for (const span of [1, 59_999, 1_800_000, 86_400_000, 1_000_000_000, 5e12]) {
    for (const buckets of [4, 99, 499, 2499]) {
      const w = bucketWidth(span, buckets);
      assert.ok(Math.ceil(span / w) <= buckets, `span ${span} buckets ${buckets} width ${w}`);
    }
  }
});

Deno.test("reduceSeries() keeps the highest spike and the deepest dip of 100,000 rows", async () => {
  const r = await reduce(100_000, 1000);
  assert.equal(r.rows, 100_000);
  assert.equal(r.reduced, true);
  assert.ok(r.t.length <= 1000 && r.t.length >= 750, `positions: ${r.t.length}`);
  const c0 = r.values[0]!.filter((v): v is number => v !== null);
  assert.equal(Math.max(...c0), 1e6);
  assert.equal(Math.min(...c0), -500);
  for (let i = 1; i < r.t.length; i++) assert.ok(r.t[i]! > r.t[i - 1]!, "t ascends");
});

Deno.test("reduceSeries() gives each bucket its exact min and max at its first and last sample", async () => {
  const n = 20_000, points = 200;
  const r = await reduce(n, points);
  const width = bucketWidth(n * 1000, points / 2 - 1);
  // The same buckets in JS: aligned to multiples of `width` since the epoch.
  const buckets = new Map<number, { i: number; t: number; v: number }[]>();
  for (let i = 0; i < n; i++) {
    const t = BASE + i * 1000;
    const b = Math.floor(t / width);
    if (!buckets.has(b)) buckets.set(b, []);
    buckets.get(b)!.push({ i, t, v: value(i) });
  }
  let k = 0;
  for (const rows of buckets.values()) {
    const lo = rows.reduce((a, x) => (x.v < a.v ? x : a));
    const hi = rows.reduce((a, x) => (x.v > a.v ? x : a));
    assert.equal(r.t[k], rows[0]!.t, "first position: the bucket's first sample");
    assert.equal(r.t[k + 1], rows.at(-1)!.t, "second position: its last sample");
    const expected = lo.t <= hi.t ? [lo.v, hi.v] : [hi.v, lo.v];
    assert.deepEqual([r.values[0]![k], r.values[0]![k + 1]], expected.map(compact));
    k += 2;
  }
  assert.equal(k, r.t.length);
});

Deno.test("aggregate() puts a sample on a bucket boundary into the bucket that starts there", async () => {
  const e = await engine();
  const w = 10_000;
  const b0 = Math.ceil(BASE / w) * w;
  const rel = `SELECT * FROM (VALUES (${b0 - 1}::BIGINT, 1.0), (${b0}::BIGINT, 2.0),
    (${b0 + w - 1}::BIGINT, 3.0), (${b0 + w}::BIGINT, 4.0), (${
    b0 + w + 1
  }::BIGINT, NULL)) v(t, c0)`;
  const p = aggregate((sql) => e.query(sql), rel, 1, w);
  const k = b0 / w;
  assert.deepEqual(Array.from(p.b), [k - 1, k, k + 1]);
  assert.deepEqual(Array.from(p.n), [1, 2, 2]);
  assert.deepEqual(Array.from(p.t0), [b0 - 1, b0, b0 + w]);
  assert.deepEqual(Array.from(p.t1), [b0 - 1, b0 + w - 1, b0 + w + 1]);
  assert.deepEqual(Array.from(p.lo[0]!), [1, 2, 4]);
  assert.deepEqual(Array.from(p.hi[0]!), [1, 3, 4]);
  assert.deepEqual(Array.from(p.tlo[0]!), [b0 - 1, b0, b0 + w]);
  assert.deepEqual(Array.from(p.thi[0]!), [b0 - 1, b0 + w - 1, b0 + w]);
});

Deno.test("reduceSeries() puts the later extreme second when the maximum comes first", async () => {
  const e = await engine();
  // One bucket per 10 s; inside each, values fall: max first, then min.
  const rel = `SELECT (${BASE} + i * 1000)::BIGINT AS t, (100 - (i % 10))::DOUBLE AS c0
    FROM range(100) r(i)`;
  const r = reduceSeries({
    query: (sql) => e.query(sql),
    relation: within(rel),
    columns: 1,
    start: BASE,
    end: BASE + 99_999,
    points: 24,
  });
  assert.equal(r.reduced, true);
  assert.equal(r.t.length, 20);
  for (let k = 0; k < r.t.length; k += 2) assert.deepEqual(r.values[0]!.slice(k, k + 2), [100, 91]);
});

Deno.test("reduceSeries() leaves gaps where a series has no value in a bucket", async () => {
  const r = await reduce(100_000, 1000);
  const c1 = r.values[1]!;
  const nulls = r.t.filter((t, k) => c1[k] === null && t >= BASE + 2000 * 1000);
  assert.ok(nulls.length > 0, "the null stretch shows as gaps");
  for (const t of nulls) assert.ok(t >= BASE + 1900_000 && t <= BASE + 3100_000);
  assert.ok(r.values[0]!.every((v) => v !== null), "c0 has no gaps");
});

Deno.test("reduceSeries() sends raw rows, exactly, when they fit in `points`", async () => {
  const r = await reduce(500, 500);
  assert.equal(r.reduced, false);
  assert.equal(r.rows, 500);
  assert.deepEqual(r.t, Array.from({ length: 500 }, (_, i) => BASE + i * 1000));
  assert.deepEqual(r.values[0], Array.from({ length: 500 }, (_, i) => value(i)));
  const one = await reduce(501, 500);
  assert.equal(one.reduced, true);
  assert.ok(one.t.length <= 500);
});

Deno.test("reduceSeries() never answers more positions than `points`", async () => {
  for (
    const [n, points, step] of [[10_000, 10, 1000], [10_000, 11, 997], [3000, 1000, 1], [
      50_000,
      5000,
      333,
    ]]
  ) {
    const r = await reduce(n!, points!, step);
    assert.ok(r.t.length <= points!, `n ${n} points ${points}: ${r.t.length}`);
    const fewest = Math.min(n!, 0.75 * points! - 2);
    assert.ok(r.t.length >= fewest, `n ${n} points ${points}: only ${r.t.length}`);
  }
});

Deno.test("reduceSeries() answers the same from a summary of fine buckets as from a scan", async () => {
  const e = await engine();
  const query = (sql: string) => e.query(sql);
  const n = 300_000; // 3.5 days at 1 s
  const span = n * 1000;
  const fine = summaryWidth(span);
  assert.equal(fine, 100_000);
  const summary = extendSummary(null, query, relation(n), ["a", "b"], fine);
  assert.equal(summary.buckets.b.length, 3000);
  for (
    const [start, end, points] of [
      [BASE, BASE + span - 1000, 1000], // all
      [BASE + 123_456, BASE + 299_000_000, 500], // partial fine buckets at both ends
      [BASE + 50_000_123, BASE + 58_000_000, 10], // around the spike at i = 54321
    ]
  ) {
    const width = requestWidth(start!, end!, points!);
    assert.ok(canUseSummary(width, fine), `width ${width}`);
    const args = {
      query,
      relation: within(relation(n)),
      columns: 2,
      start: start!,
      end: end!,
      points: points!,
    };
    const scanned = reduceSeries(args);
    const merged = reduceSeries({ ...args, summary, names: ["a", "b"] });
    assert.deepEqual(merged, scanned, `range ${start}..${end}`);
    assert.equal(scanned.reduced, true);
  }
});

Deno.test("reduceSeries() scans nothing for a range reaching past the trace's ends", async () => {
  const e = await engine();
  let queries = 0;
  const query = (sql: string) => (queries++, e.query(sql));
  const n = 300_000;
  const last = BASE + (n - 1) * 1000;
  const summary = extendSummary(null, query, relation(n), ["a", "b"], summaryWidth(n * 1000));
  for (
    const [start, end] of [
      [BASE, last], // "All": the last fine bucket is partial, and wholly inside
      [BASE - 77_777, last + 12_345], // beyond both ends
    ] as const
  ) {
    const args = { query, relation: within(relation(n)), columns: 2, start, end, points: 1000 };
    const scanned = reduceSeries(args);
    queries = 0;
    const merged = reduceSeries({ ...args, summary, names: ["a", "b"] });
    assert.equal(queries, 0, `range ${start}..${end}`);
    assert.deepEqual(merged, scanned, `range ${start}..${end}`);
  }
});

Deno.test("canUseSummary() takes only whole multiples of the fine width", () => {
  assert.ok(canUseSummary(1_000_000, 100_000));
  assert.ok(canUseSummary(800_000, 100_000));
  assert.ok(!canUseSummary(120_000, 100_000)); // 1.2 × fine straddles fine buckets
  assert.ok(!canUseSummary(250_000, 100_000));
  assert.ok(!canUseSummary(50_000, 100_000));
  for (let k = 0; k < 8; k++) {
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8]) {
      assert.ok(canUseSummary(Math.round(m * 10 ** (k + 1)), 10 ** k));
    }
  }
});

Deno.test("compact() keeps integers and six significant digits", () => {
  assert.equal(compact(16_000_000_000), 16_000_000_000);
  assert.equal(compact(94.73684210526315), 94.7368);
  assert.equal(compact(0.000123456789), 0.000123457);
  assert.equal(compact(NaN), null);
  assert.equal(compact(null), null);
});
