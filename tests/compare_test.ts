// Several traces side by side (issue 15, part 2): which traces a command line names, the merged
// tab (pure), and `sysmon serve A B` over two traces recorded under two host names.
import assert from "node:assert/strict";
import { traceSpecs } from "../src/query/compare_set.ts";
import { resample } from "../src/views/compare_tab.ts";
import { createApp } from "../src/server/app.ts";
import { Comparison } from "../src/server/comparison.ts";
import { get, noStackTrace, startServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";

const T0 = Date.UTC(2026, 4, 12, 9, 0, 0);

/** The chart configurations of a fragment, by id. */
interface Config {
  series: { label: string; i: number; trace?: number }[];
  bars: { labels: string[]; values: (number | null)[]; traces?: number[] } | null;
}

function chartConfigs(html: string): Map<string, Config> {
  const out = new Map();
  for (
    const m of html.matchAll(
      /<script type="application\/json"\s+class="chart-config">(.*?)<\/script>/g,
    )
  ) {
    const cfg = JSON.parse(m[1]!);
    out.set(cfg.id, cfg);
  }
  return out;
}

function tabData(html: string): { blocks: { t0: number; dt: number[]; s: unknown[][] }[] } {
  const m = /<script type="application\/json"\s+class="tab-data">(.*?)<\/script>/.exec(html);
  assert.ok(m, "no tab data");
  return JSON.parse(m[1]!);
}

Deno.test("resample() reads a trace's line at another trace's instants, never across a hole", () => {
  const t = [0, 1000, 2000, 6000];
  const v = [0, 10, null, 5];
  assert.deepEqual(resample(t, v, [0, 500, 1000, 1500, 4000, 6000, 7000], 3000), [
    0,
    5,
    10,
    null, // its next sample is null
    null, // 2000 → 6000: a hole wider than 3000 ms
    5,
    null, // after its last sample
  ]);
});

Deno.test("traceSpecs() keeps one trace's files one trace and splits a directory of several", () => {
  const dir = tempDir();
  const id = writeTrace(`${dir}/a.parquet`, "hostA", T0);
  writeTrace(`${dir}/b.parquet`, "hostA", T0 + 60_000, { id }); // the same trace, another file
  assert.equal(traceSpecs([dir]).length, 1);
  assert.equal(traceSpecs([`${dir}/a.parquet`, `${dir}/b.parquet`]).length, 1);
  writeTrace(`${dir}/c.parquet`, "hostB", T0);
  const specs = traceSpecs([dir]);
  assert.equal(specs.length, 2);
  assert.deepEqual(specs.map((s) => s.groups?.length), [2, 1]);
  assert.equal(traceSpecs([`${dir}/a.parquet`, `${dir}/c.parquet`]).length, 2);
});

Deno.test("a directory of one trace and the original tool's file holds two traces", () => {
  const dir = tempDir();
  writeTrace(`${dir}/a.parquet`, "hostA", T0);
  assert.equal(traceSpecs([dir]).length, 1);
  Deno.writeFileSync(
    `${dir}/system_monitor.parquet`,
    originalParquetBytes(originalRows({ start: T0 / 1000, n: 3 }), { tz: "utc" }),
  );
  const specs = traceSpecs([dir]);
  assert.deepEqual(specs.map((s) => s.path), [`${dir}/a.parquet`, `${dir}/system_monitor.parquet`]);
  assert.ok(specs.every((s) => s.groups?.length === 1), "never read as one");
});

Deno.test("a comparison's version sees every file of a trace, and its traced file once", async () => {
  const dir = tempDir();
  const id = writeTrace(`${dir}/a.parquet`, "hostA", T0);
  writeTrace(`${dir}/a_later.parquet`, "hostA", T0 + 60_000, { id });
  writeTrace(`${dir}/b.parquet`, "hostB", T0);
  const c = new Comparison([dir], { defaultZone: "UTC", warm: false });
  try {
    const before = await c.version();
    writeTrace(`${dir}/a_later.parquet`, "hostA", T0 + 60_000, { id, n: 90 }); // A's 2nd file
    assert.notEqual(await c.version(), before);
  } finally {
    await c.close();
  }
  // A directory of one trace, that serve traces into: the trace once, not twice.
  const one = tempDir();
  writeTrace(`${one}/t.parquet`, "hostA", T0);
  const traced = new Comparison([one], {}, () => `${one}/t.parquet`);
  try {
    assert.equal(traced.traces().length, 1);
  } finally {
    await traced.close();
  }
});

Deno.test("sysmon serve A B names both hosts and draws one series per trace", async () => {
  const dir = tempDir();
  const a = `${dir}/a.parquet`, b = `${dir}/b.parquet`;
  writeTrace(a, "host-alpha", T0, { gpu: true });
  const idB = writeTrace(b, "host-beta", T0 + 300, { cpu: 60 });
  const s = await startServe([a, b, "--port", "0"]);
  try {
    const page = await get(`${s.url}?range=all`);
    assert.equal(page.status, 200);
    noStackTrace(page.text);
    assert.match(page.text, /host-alpha · 2026-05-12/);
    assert.match(page.text, /host-beta · 2026-05-12/);
    // The source line names every trace's file, not the first one's alone.
    assert.match(page.text, /Traces <code>[^<]*a\.parquet<\/code>, <code>[^<]*b\.parquet<\/code>/);
    assert.match(page.text, /hosts host-alpha, host-beta/);
    // The API answers the trace asked for: by index, or by id; the first by default.
    const meta1 = JSON.parse((await get(`${s.url}api/meta?trace=1`)).text);
    assert.equal(meta1.host, "host-beta");
    assert.equal(JSON.parse((await get(`${s.url}api/meta?trace=${idB}`)).text).host, "host-beta");
    assert.equal(JSON.parse((await get(`${s.url}api/meta`)).text).host, "host-alpha");
    const series = JSON.parse(
      (await get(`${s.url}api/series?trace=1&columns=cpu_busy_percent,gpu_0_utilization`)).text,
    );
    assert.equal(series.series.cpu_busy_percent[0], 60);
    assert.deepEqual(series.missing, ["gpu_0_utilization"]);
    assert.equal((await get(`${s.url}api/series?trace=7&columns=cpu_busy_percent`)).status, 404);
    const traces = JSON.parse((await get(`${s.url}api/traces`)).text);
    assert.deepEqual(traces.map((t: { host: string }) => t.host), ["host-alpha", "host-beta"]);
    // The Overview's CPU chart: one series per series and trace, each in its trace's slot.
    const view = (await get(`${s.url}tab/overview?range=all`)).text;
    const cfg = chartConfigs(view);
    const cpu = [...cfg].find(([id, c]) =>
      !id.startsWith("spark-") && c.series.some((x) =>
        x.label.startsWith("CPU")
      )
    )![1];
    const cpuSeries = cpu.series.filter((x) => x.label.startsWith("CPU"));
    assert.deepEqual(cpuSeries.map((x) => [x.label, x.trace]), [
      ["CPU · host-alpha", 0],
      ["CPU · host-beta", 1],
    ]);
    assert.match(view, /data-align="wall"/); // they overlap: wall time
    // The GPU tab: only the trace with a GPU has its series (not an error).
    const gpu = chartConfigs((await get(`${s.url}tab/gpu?range=all`)).text);
    const gpuTraces = new Set([...gpu.values()].flatMap((c) => c.series.map((x) => x.trace)));
    assert.ok(gpu.size > 0, "the GPU tab draws the first trace's GPU");
    assert.deepEqual([...gpuTraces], [0]);
    // Shown: only the second.
    const one = chartConfigs((await get(`${s.url}tab/overview?range=all&traces=1`)).text);
    assert.ok(
      [...one].every(([id, c]) => id.startsWith("spark-") || c.series.every((x) => x.trace === 1)),
    );
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

Deno.test("traces of other zones and intervals line up by the instants they were sampled at", async () => {
  const dir = tempDir();
  const a = `${dir}/utc.parquet`, b = `${dir}/tokyo.parquet`;
  writeTrace(a, "host-utc", T0, { n: 20, cpu: 10 });
  // 18:00 in Tokyo is 09:00 UTC; a sample every 2 s.
  writeTrace(b, "host-tokyo", T0, { n: 10, cpu: 50, step: 2000, zone: "Asia/Tokyo", offsetH: 9 });
  const app = createApp({ file: a, compare: new Comparison([a, b]), eager: false });
  try {
    const html = await (await app.request("/tab/overview?range=all")).text();
    assert.match(html, /data-align="wall"/); // the same instants: they overlap
    const { blocks } = tabData(html);
    const cpu = chartConfigs(html).get("overview-cpu-mem")!.series;
    const tokyo = cpu.find((x) => x.label === "CPU · host-tokyo")!;
    const utc = cpu.find((x) => x.label === "CPU · host-utc")!;
    const b0 = blocks[0]!;
    assert.equal(b0.t0, T0);
    const xs = [T0];
    for (const d of b0.dt) xs.push(xs.at(-1)! + d);
    assert.equal(xs.at(-1), T0 + 19_000); // one time axis: 09:00:00 to 09:00:19 UTC
    const at = (ser: { i: number }, ms: number) => b0.s[ser.i]![xs.indexOf(T0 + ms)];
    assert.equal(at(utc, 3000), 13);
    assert.equal(at(tokyo, 2000), 51); // its own sample
    assert.equal(at(tokyo, 3000), 51.5); // between its samples 2 s apart: no hole
    assert.equal(at(tokyo, 19_000), null); // after its last sample (18 s)
  } finally {
    await app.close();
  }
});

Deno.test("align=start shifts each trace to start at 0: two runs of a job a day apart", async () => {
  const dir = tempDir();
  const a = `${dir}/run1.parquet`, b = `${dir}/run2.parquet`;
  writeTrace(a, "node1", T0, { n: 30 });
  writeTrace(b, "node1", T0 + 86_400_000 + 5_000, { n: 40, cpu: 70 });
  const compare = new Comparison([a, b]);
  const app = createApp({ file: a, compare, eager: false });
  try {
    const res = await app.request("/tab/overview?range=all");
    const html = await res.text();
    assert.equal(res.status, 200, html);
    // They do not overlap: from each start by default, the legends name host and start.
    assert.match(html, /data-align="start"/);
    const { blocks } = tabData(html);
    assert.equal(blocks[0]!.t0, 0);
    const span = blocks[0]!.dt.reduce((x, y) => x + y, 0);
    assert.equal(span, 39_000); // the longer run, in elapsed ms
    const labels = [...chartConfigs(html).values()].flatMap((c) => c.series.map((x) => x.label));
    assert.ok(labels.includes("CPU · node1 · 2026-05-12 09:00"), labels.join(", "));
    // Wall time asked for: each at its own instants.
    const wall = await (await app.request("/tab/overview?range=all&align=wall")).text();
    assert.match(wall, /data-align="wall"/);
    assert.equal(tabData(wall).blocks[0]!.t0, T0);
    // Every tab answers: the compared ones over both; the Process Tree shows this machine (said).
    for (const tab of ["cpu", "io", "gpu", "containers", "processes", "proctree"]) {
      const r = await app.request(`/tab/${tab}?range=all`);
      const text = await r.text();
      assert.equal(r.status, 200, `${tab}: ${text.slice(0, 300)}`);
      assert.doesNotMatch(text, /class="problem|Uncaught/, tab);
      assert.match(text, /node1 · 2026-05-13 09:00/, tab);
      assert.doesNotMatch(text, /first trace only/, tab);
      if (tab === "proctree") assert.match(text, /this machine&#39;s processes now/, tab);
    }
  } finally {
    await app.close();
  }
});

Deno.test("the Containers tab and the cards' sparklines draw every trace compared", async () => {
  const dir = tempDir();
  const a = `${dir}/a.parquet`, b = `${dir}/b.parquet`;
  writeTrace(a, "host-alpha", T0, { containers: ["web"] });
  writeTrace(b, "host-beta", T0 + 300, { cpu: 60, containers: ["db", "web"] });
  const compare = new Comparison([a, b]);
  const app = createApp({ file: a, compare, eager: false });
  try {
    const res = await app.request("/tab/containers?range=all");
    const html = await res.text();
    assert.equal(res.status, 200, html);
    assert.doesNotMatch(html, /This tab shows the first trace only/);
    const cfg = chartConfigs(html);
    // Each container's line once per trace that has it, in the trace's slot.
    const cpu = cfg.get("ct-cpu")!.series.map((x) => [x.label, x.trace]);
    assert.deepEqual(cpu.sort(), [
      ["db · host-beta", 1],
      ["web · host-alpha", 0],
      ["web · host-beta", 1],
    ]);
    const rx = cfg.get("ct-net")!.series.map((x) => [x.label, x.trace]);
    assert.deepEqual(rx, [["RX · host-alpha", 0], ["RX · host-beta", 1]]);
    // The bars: each container once per trace, its own newest value, in the trace's colour.
    const bars = cfg.get("ct-top-cpu")!.bars!;
    const byLabel = new Map(bars.labels.map((l, k) => [l, [bars.values[k], bars.traces?.[k]]]));
    assert.deepEqual(byLabel.get("web · host-alpha"), [10, 0]);
    assert.deepEqual(byLabel.get("web · host-beta"), [61, 1]);
    assert.deepEqual(byLabel.get("db · host-beta"), [60, 1]);
    assert.equal(byLabel.get("db · host-alpha")?.[0] ?? null, null); // host-alpha has no db
    // The Overview's cards: a sparkline of each trace, in its slot.
    const view = chartConfigs(await (await app.request("/tab/overview?range=all")).text());
    const sparks = [...view].filter(([id]) => id.startsWith("spark-"));
    assert.ok(sparks.length > 0, "no sparklines");
    for (const [id, c] of sparks) {
      assert.deepEqual(c.series.map((x) => x.trace), [0, 1], id);
      assert.notEqual(c.series[0]!.i, c.series[1]!.i, id);
    }
  } finally {
    await app.close();
  }
});
