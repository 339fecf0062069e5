// Holes in a trace (tracing stopped for a while, then started again) are breaks in the charts:
// the answers hold a null inside every step longer than 3 sample intervals, raw and reduced,
// from one file, several, a journal and the live feed (src/query/gaps.ts).
import assert from "node:assert/strict";
import { breakColumns, holeLimit, medianStep } from "../src/query/gaps.ts";
import { openTrace } from "../src/query/source.ts";
import { columnDef, type Row } from "../src/schema/columns.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { ParquetSink } from "../src/store/parquet_sink.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { createApp } from "../src/server/app.ts";
import { LiveSession } from "../src/live/session.ts";
import type { SeriesResult } from "../src/views/types.ts";
import type { DataBlock } from "../src/views/charts.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";
import { tempDir } from "./helpers.ts";
import { startServe } from "./fault_kit.ts";

const T0 = Date.UTC(2026, 4, 12, 4, 0, 0);
/** Rows 1 s apart; the hole: no sample for 20 s after row HOLE_AFTER. */
const HOLE_AFTER = 299;
const HOLE_MS = 20_000;
const at = (i: number) => T0 + i * 1000 + (i > HOLE_AFTER ? HOLE_MS : 0);
/** Inside the hole: after the last sample before it, before the first after it. */
const HOLE_START = at(HOLE_AFTER), HOLE_END = at(HOLE_AFTER + 1);

const row = (i: number): Row => ({
  timestamp: at(i) * 1000,
  cpu_busy_percent: 20 + (i % 7),
  load_1m: i / 100,
});

/** A trace of sysmon's with `n` rows and the hole, written by its Parquet writer. */
function holeTrace(n = 600, path = `${tempDir()}/hole.parquet`, from = 0): string {
  const trace = new ParquetTrace({ path, utc: true });
  trace.add(Array.from({ length: n }, (_, k) => row(from + k)), (c) => columnDef(c)!);
  trace.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: newTraceId() }, trace.columns));
  return path;
}

/** The positions of an answer inside the hole, and whether every series is null there. */
function inHole(r: { t: number[]; series: Record<string, (number | null)[]> }) {
  const idx = r.t.flatMap((t, i) => (t > HOLE_START && t < HOLE_END ? [i] : []));
  return {
    positions: idx.length,
    allNull: idx.every((i) => Object.values(r.series).every((v) => v[i] === null)),
  };
}

function assertBroken(r: SeriesResult, what: string) {
  const h = inHole(r);
  assert.ok(h.positions >= 1, `${what}: no position inside the hole`);
  assert.ok(h.allNull, `${what}: a value inside the hole`);
  // Nowhere else: every other step is short.
  const nulls = r.series.cpu_busy_percent!.filter((v) => v === null).length;
  assert.equal(nulls, h.positions, `${what}: nulls outside the hole`);
}

Deno.test("breakColumns() puts a null inside steps longer than 3 intervals, and only there", () => {
  const t = [0, 1000, 2000, 3000, 6001, 7000, 7000, 20_000];
  const r = breakColumns(t, [[1, 2, 3, 4, 5, 6, 7, 8]], holeLimit(1));
  assert.deepEqual(r.t, [0, 1000, 2000, 3000, 4000, 6001, 7000, 7000, 8000, 20_000]);
  assert.deepEqual(r.values, [[1, 2, 3, 4, null, 5, 6, 7, null, 8]]);
  // 3000 exactly is not a hole; an unknown interval is estimated from the times
  assert.equal(breakColumns([0, 1000, 4000], [[1, 2, 3]], 3000).holes, 0);
  assert.equal(holeLimit(null, t), 3000);
  assert.equal(medianStep([5]), null);
  assert.equal(holeLimit(null, [5]), null);
  assert.equal(breakColumns(t, [[]], null).t, t, "no limit: as it was");
  // only from..to: the junction of two answers
  assert.equal(breakColumns([0, 9000, 10_000, 20_000], [[1, 2, 3, 4]], 3000, 3, 4).holes, 1);
});

Deno.test("the real sysmon serve answers /api/series with a null inside a 20 s hole, raw and reduced", async () => {
  const file = holeTrace();
  const serve = await startServe([file, "--port", "0"]);
  try {
    const series = async (q: string) => {
      const res = await fetch(`${serve.url}api/series?columns=cpu_busy_percent,load_1m&${q}`);
      assert.equal(res.status, 200);
      return await res.json() as SeriesResult;
    };
    // a short range: every row (raw)
    const raw = await series(`start=${at(280)}&end=${at(320)}&points=1000`);
    assert.equal(raw.reduced, false);
    assert.equal(raw.rows, 41);
    assertBroken(raw, "raw");
    assert.equal(raw.t.length, 42, "one position more than rows: the hole's");
    // the whole trace into 200 positions: min and max per 8 s bucket
    const reduced = await series("points=200");
    assert.equal(reduced.reduced, true);
    assert.equal(reduced.rows, 600);
    assertBroken(reduced, "reduced");
    assert.ok(reduced.t.length <= 201, `${reduced.t.length} positions`);
  } finally {
    await serve.stop();
  }
});

Deno.test("holes break every kind of answer: summaries, estimated intervals, several files, the journal", async (t) => {
  await t.step("reduced from a summary (fine buckets merged)", async () => {
    const src = await openTrace(holeTrace(), { defaultZone: "UTC", summaryMinRows: 10 });
    try {
      for (const points of [200, 400, 1000]) {
        const r = await src.series({ columns: ["cpu_busy_percent", "load_1m"], points });
        assertBroken(r, `${points} points`);
      }
    } finally {
      await src.close();
    }
  });

  await t.step("a file of the original tool (no interval recorded: estimated)", async () => {
    const rows = originalRows({ start: T0, n: 400, interval: 1 }).map((r, i) => ({
      ...r,
      timestamp: at(i),
    }));
    const path = `${tempDir()}/system_monitor.parquet`;
    Deno.writeFileSync(path, originalParquetBytes(rows, { tz: "utc" }));
    const src = await openTrace(path, { defaultZone: "UTC" });
    try {
      for (const points of [100, 1000]) {
        const r = await src.series({ columns: ["cpu_0_utilization"], points });
        const h = inHole(r);
        assert.ok(h.positions >= 1 && h.allNull, `${points} points: ${JSON.stringify(h)}`);
      }
    } finally {
      await src.close();
    }
  });

  await t.step("a directory of two files, the hole between them", async () => {
    const dir = tempDir();
    holeTrace(HOLE_AFTER + 1, `${dir}/a.parquet`);
    holeTrace(300, `${dir}/b.parquet`, HOLE_AFTER + 1);
    const src = await openTrace(dir, { defaultZone: "UTC" });
    try {
      for (const points of [200, 1000]) {
        assertBroken(
          await src.series({ columns: ["cpu_busy_percent"], points }),
          `${points} points`,
        );
      }
    } finally {
      await src.close();
    }
  });

  await t.step("rows only the journal holds yet, the hole between the file and them", async () => {
    const path = `${tempDir()}/live.parquet`;
    let now = 0;
    const sink = ParquetSink.open({
      path,
      utc: true,
      sampleInterval: 1,
      foldIntervalMs: 60_000,
      now: () => now,
    });
    for (let i = 280; i <= HOLE_AFTER; i++) sink.add(row(i));
    sink.write(); // the first write folds: the file ends at the hole
    for (let i = HOLE_AFTER + 1; i < HOLE_AFTER + 10; i++) {
      sink.add(row(i));
      now += 1000;
      assert.equal(sink.write().error, null); // journal only
    }
    const src = await openTrace(path, { defaultZone: "UTC" });
    try {
      const r = await src.series({ columns: ["cpu_busy_percent"], points: 1000 });
      assert.equal(r.rows, 29);
      assertBroken(r, "file + journal");
    } finally {
      await src.close();
      sink.close();
    }
  });
});

/** The blocks a page or fragment carries (tab-data JSON), x decoded. */
function blocksOf(html: string): (DataBlock & { t: number[] })[] {
  const json = /<script type="application\/json"\s+class="tab-data">(.*?)<\/script>/s.exec(html);
  assert.ok(json, "no tab-data in the page");
  const blocks = JSON.parse(json[1]!).blocks as DataBlock[];
  return blocks.map((b) => {
    const t = [b.t0];
    for (const d of b.dt) t.push(t.at(-1)! + d);
    return { ...b, t };
  });
}

Deno.test("the live feed breaks at a hole: the page's blocks, and the samples a live page appends", async () => {
  const dir = tempDir();
  const session = new LiveSession({ file: `${dir}/live.parquet` });
  const app = createApp({ session, refreshMs: 60_000 });
  // rows as a followed file gives them (their instant known)
  const push = (i: number) =>
    (session as unknown as { onRow(r: unknown): void }).onRow({
      at: at(i),
      row: { cpu_busy_percent: 20 + (i % 7), load_1m: i / 100 },
    });
  try {
    for (let i = 250; i <= HOLE_AFTER + 5; i++) push(i);
    const page = await app.request("/tab/overview?mode=live&range=all", {
      headers: { "HX-Request": "true" },
    });
    assert.equal(page.status, 200);
    const html = await page.text();
    const [b] = blocksOf(html);
    assert.ok(b, "a data block");
    assert.equal(b.gap, 3000, "3 × the feed's median step");
    const series = Object.fromEntries(b.s.map((v, k) => [`s${k}`, v]));
    const h = inHole({ t: b.t, series });
    assert.ok(h.positions === 1 && h.allNull, JSON.stringify(h));

    // Samples after a second hole, as a live page asks for them (`since` its newest).
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(html)?.[1] ?? "";
    const since = Number(attr("data-since"));
    assert.equal(since, at(HOLE_AFTER + 5));
    const later = (i: number) => at(i) + 30_000;
    for (const i of [HOLE_AFTER + 6, HOLE_AFTER + 7]) {
      (session as unknown as { onRow(r: unknown): void }).onRow({
        at: later(i),
        row: { cpu_busy_percent: 1, load_1m: 1 },
      });
    }
    // two more, 10 s apart: a hole between them too
    (session as unknown as { onRow(r: unknown): void }).onRow({
      at: later(HOLE_AFTER + 7) + 10_000,
      row: { cpu_busy_percent: 2, load_1m: 2 },
    });
    const q = new URLSearchParams({
      mode: "live",
      range: "all",
      since: String(since),
      epoch: attr("data-epoch"),
      sig: attr("data-sig"),
    });
    const res = await app.request(`/tab/overview/live?${q}`);
    assert.equal(res.status, 200);
    const j = await res.json() as { blocks: DataBlock[]; count: number };
    assert.equal(j.count, 3);
    const [lb] = j.blocks;
    // 3 samples and the null inside the 10 s step between the last two (the step from the
    // page's newest sample to the first is live.js's to break: it knows what it holds)
    assert.equal(lb!.dt.length + 1, 4);
    assert.ok(lb!.s.every((v) => v[2] === null), JSON.stringify(lb!.s));
    assert.equal(lb!.gap, 3000);
  } finally {
    await app.close();
    await session.close();
  }
});
