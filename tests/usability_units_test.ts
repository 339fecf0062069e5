// The pure parts behind the page's usability fixes: moving in time (views/state.ts), rates of
// cumulative counters (schema/derived.ts), the page's wording of the tracer's refusals and the
// output Start is pre-filled with (live/start_output.ts).
import assert from "node:assert/strict";
import { counterRateFormula, counterRates } from "../src/schema/derived.ts";
import { startOutput } from "../src/live/start_output.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { columnDef } from "../src/schema/columns.ts";
import { pageWords } from "../src/views/page_words.ts";
import { DEFAULT_STATE, fitZoom, panned, steppedOut, type ViewState } from "../src/views/state.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";
import { tempDir } from "./helpers.ts";

const MIN = 60_000;
const FIRST = 0, LAST = 600 * MIN; // a 10-hour trace
const at = (s: Partial<ViewState>): ViewState => ({ ...DEFAULT_STATE, ...s });

Deno.test("fitZoom() keeps a zoom in its range, or says All, a range or none", () => {
  const cases: [Partial<ViewState>, Partial<ViewState>][] = [
    // inside the 30 min range: kept
    [{ zoom: { start: LAST - 20 * MIN, end: LAST - 10 * MIN } }, {
      range: "30m",
      zoom: { start: LAST - 20 * MIN, end: LAST - 10 * MIN },
    }],
    // before the range's start: All, zoomed
    [{ zoom: { start: LAST - 50 * MIN, end: LAST - 40 * MIN } }, {
      range: "all",
      zoom: { start: LAST - 50 * MIN, end: LAST - 40 * MIN },
    }],
    // ending at the newest sample, an hour long: the 1 h range
    [{ zoom: { start: LAST - 60 * MIN, end: LAST } }, { range: "1h", zoom: null }],
    // the whole range: no zoom
    [{ range: "3h", zoom: { start: LAST - 180 * MIN, end: LAST + 5 } }, {
      range: "3h",
      zoom: null,
    }],
    // the whole trace: All
    [{ zoom: { start: FIRST - 10, end: LAST + 10 } }, { range: "all", zoom: null }],
  ];
  for (const [given, want] of cases) {
    const got = fitZoom(at(given), FIRST, LAST);
    assert.deepEqual([got.range, got.zoom], [want.range, want.zoom], JSON.stringify(given));
  }
});

Deno.test("panned() moves half a window, within the trace; steppedOut() doubles the span", () => {
  const w = { first: FIRST, last: LAST, start: LAST - 20 * MIN, end: LAST - 10 * MIN };
  const s = at({ zoom: { start: w.start, end: w.end } });
  assert.deepEqual(panned(s, w, -1)?.zoom, { start: LAST - 25 * MIN, end: LAST - 15 * MIN });
  // later: only as far as the newest sample, then the same span
  assert.deepEqual(panned(s, w, 1)?.zoom, { start: LAST - 15 * MIN, end: LAST - 5 * MIN });
  const edge = { ...w, start: LAST - 10 * MIN, end: LAST };
  assert.equal(panned(at({}), edge, 1), null, "nothing later than the newest sample");
  // not zoomed, 30 min: earlier leaves the range (All, zoomed)
  const range = { ...w, start: LAST - 30 * MIN, end: LAST };
  const earlier = panned(at({}), range, -1)!;
  assert.deepEqual([earlier.range, earlier.zoom], ["all", {
    start: LAST - 45 * MIN,
    end: LAST - 15 * MIN,
  }]);
  // zoom out: around the middle when zoomed; from the end (a range twice as long) when not
  assert.deepEqual(steppedOut(s, w)?.zoom, { start: LAST - 25 * MIN, end: LAST - 5 * MIN });
  const out = steppedOut(at({}), range)!;
  assert.deepEqual([out.range, out.zoom], ["1h", null]);
  assert.equal(steppedOut(at({ range: "all" }), { ...w, start: FIRST, end: LAST }), null);
});

Deno.test("counterRates() gives per-second rates; none first, across a gap or a reset", () => {
  const t = [0, 2000, 4000, 6000, 8000, 10_000];
  assert.deepEqual(counterRates(t, [10, 14, 14, null, 30, 2]), [null, 2, 0, null, null, null]);
  // the original tool's files keep only some `_per_sec` columns: the others are computed
  const names = new Set(["net_errin", "net_bytes_recv", "net_bytes_recv_per_sec"]);
  assert.deepEqual(counterRateFormula(names, ["net_bytes_recv"]), {
    k: "col",
    col: "net_bytes_recv_per_sec",
  });
  assert.deepEqual(counterRateFormula(names, ["net_errin"]), { k: "rate", cols: ["net_errin"] });
  assert.deepEqual(counterRateFormula(new Set(), ["net_errin"]), {
    k: "col",
    col: "net_errin_per_sec",
  });
});

Deno.test("pageWords() names the page's controls instead of command-line flags", () => {
  assert.equal(
    pageWords("x.parquet exists and was not written by sysmon; choose another --output or move it"),
    "x.parquet exists and was not written by sysmon; choose another Output file or move it",
  );
  assert.equal(
    pageWords("x holds UTC timestamps; run without --utc to append to it"),
    "x holds UTC timestamps; untick UTC timestamps to append to it",
  );
  assert.equal(pageWords("a-b --- c"), "a-b --- c");
});

Deno.test("startOutput(): the served file when sysmon appends to it, else a free name beside it", () => {
  const dir = tempDir();
  const absent = `${dir}/new.parquet`;
  assert.deepEqual(startOutput(absent, dir), { output: absent, utc: null });
  // the original tool's file: never appended to
  const original = `${dir}/system_monitor.parquet`;
  Deno.writeFileSync(
    original,
    originalParquetBytes(originalRows({ start: 0, n: 3 }), { tz: "utc" }),
  );
  assert.deepEqual(startOutput(original, dir), {
    output: `${dir}/system_monitor_sysmon.parquet`,
    utc: null,
  });
  // a trace sysmon wrote (in UTC): appended to, in its zone; the last output first
  const mine = `${dir}/system_monitor_sysmon.parquet`;
  const t = new ParquetTrace({ path: mine, utc: true });
  t.add([{ timestamp: 1000, cpu_busy_percent: 1 }], (n) => columnDef(n)!);
  t.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: newTraceId() }, t.columns));
  assert.deepEqual(startOutput(original, dir), { output: mine, utc: true });
  assert.deepEqual(startOutput(mine, dir, original).output, mine, "the last one failed");
  assert.deepEqual(startOutput(original, dir, absent).output, absent);
  // a directory view: a trace file in it
  assert.equal(startOutput(`${dir}/`, dir).output, `${dir}/trace.parquet`);
  // traces compared: never one already there, the last Start's neither (run 1, then run 2)
  const fresh = startOutput(original, dir, mine, true).output;
  assert.equal(fresh, `${dir}/system_monitor_sysmon_2.parquet`);
  assert.equal(startOutput(original, dir, absent, true).output, absent, "not there yet");
});
