/// <reference lib="dom" />
// The charts in Chromium (playwright-core) over a trace made for them: a 20 s hole is a break
// in lines, heatmap and sparklines; the time axis writes its date once; tiny values get ticks
// that differ; a container has one colour in every chart; the legend has min, mean, max and
// last of the window and follows a zoom; event labels neither overlap nor leave the plot; the
// series colours hold 3:1 against both themes' panels. Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { type ColumnDef, columnDef, type Row } from "../src/schema/columns.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { createApp } from "../src/server/app.ts";
import { tempDir } from "./helpers.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const haveChromium = chromiumFor("browser_charts_test");

const T0 = Date.UTC(2026, 4, 12, 4, 0, 0); // a Tuesday
const ROWS = 600;
const HOLE_AFTER = 299, HOLE_MS = 20_000;
const at = (i: number) => T0 + i * 1000 + (i > HOLE_AFTER ? HOLE_MS : 0);
const HOLE_START = at(HOLE_AFTER), HOLE_END = at(HOLE_AFTER + 1);
const CONTAINERS = [
  // busiest CPU first in the lines; most memory first in the memory bars
  { name: "web", cpu: 60, mem: 10 },
  { name: "db", cpu: 40, mem: 20 },
  { name: "redis", cpu: 20, mem: 70 },
];

/**
 * 600 samples 1 s apart with a 20 s hole in the middle: CPU rising 0 → 100 %, four cores,
 * file handles at about 5e-14 %, three containers.
 */
function chartTrace(): string {
  const path = `${tempDir()}/charts.parquet`;
  const trace = new ParquetTrace({ path, utc: true });
  const defs = (name: string): ColumnDef =>
    columnDef(name) ?? { name, kind: "double", unit: "percent", help: "container metric" };
  const rows: Row[] = Array.from({ length: ROWS }, (_, i) => {
    const row: Row = {
      timestamp: at(i) * 1000,
      cpu_busy_percent: (100 * i) / (ROWS - 1),
      fd_usage_percent: 5e-14 + (i % 5) * 1e-15,
    };
    for (let c = 0; c < 4; c++) row[`cpu_${c}_utilization`] = (i * (c + 1)) % 100;
    for (const k of CONTAINERS) {
      row[`docker_${k.name}_cpu_percent`] = k.cpu + (i % 3);
      row[`docker_${k.name}_mem_percent`] = k.mem;
    }
    return row;
  });
  trace.add(rows, defs);
  trace.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: newTraceId() }, trace.columns));
  return path;
}

async function chartsReady(page: Page, tab: string) {
  await page.waitForFunction(
    (tab) => {
      const panel = document.getElementById("panel");
      if (panel?.dataset.tab !== tab) return false;
      const figs = [...panel.querySelectorAll("[data-chart]")] as HTMLElement[];
      // deno-lint-ignore no-explicit-any
      const charts = (globalThis as any).sysmon?.charts as Map<string, unknown> | undefined;
      return charts !== undefined && figs.length > 0 &&
        figs.every((f) => charts.has(f.dataset.chart!));
    },
    tab,
    { timeout: 15_000 },
  );
}

async function shot(page: Page, name: string) {
  Deno.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** The x positions inside the hole of a chart's data, and whether all its series are null there. */
function holeOf(page: Page, id: string) {
  return page.evaluate(({ id, a, b }) => {
    // deno-lint-ignore no-explicit-any
    const c = (globalThis as any).sysmon.charts.get(id);
    const data = c.u.data as (number | null)[][];
    const idx = data[0]!.flatMap((t, i) => (t! > a && t! < b ? [i] : []));
    return {
      positions: idx.length,
      nulls: idx.filter((i) => data.slice(1).every((s) => s[i] == null)).length,
      // the values either side of the hole are there
      around: data[1]![idx[0]! - 1] != null && data[1]![idx.at(-1)! + 1] != null,
    };
  }, { id, a: HOLE_START, b: HOLE_END });
}

/** The legend's statistics of a line chart's series as shown (header → cell text). */
function legendOf(page: Page, id: string) {
  return page.evaluate((id) => {
    const table = document.querySelector(`#chart-${id} .u-legend`)!;
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent ?? "");
    return [...table.querySelectorAll("tbody tr")].map((tr) => {
      const cells = [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "");
      return Object.fromEntries(cells.map((v, k) => [heads[k + 1]!, v]));
    });
  }, id);
}

/** The stroke colour of the series labelled `label` of a line chart. */
function strokeOf(page: Page, id: string, label: string) {
  return page.evaluate(({ id, label }) => {
    // deno-lint-ignore no-explicit-any
    const u = (globalThis as any).sysmon.charts.get(id).u;
    // deno-lint-ignore no-explicit-any
    const k = u.series.findIndex((s: any) => s.label === label);
    return k < 0 ? null : String(u.series[k].stroke(u, k)).toLowerCase();
  }, { id, label });
}

/** The colour (#rrggbb) a bar chart painted the bar of `label` with. */
function barColorOf(page: Page, id: string, label: string) {
  return page.evaluate(({ id, label }) => {
    const fig = document.getElementById(`chart-${id}`)!;
    const cfg = JSON.parse(fig.querySelector("script.chart-config")!.textContent!);
    const k = cfg.bars.labels.indexOf(label);
    const canvas = fig.querySelector("canvas")!;
    const dpr = devicePixelRatio || 1;
    const w = canvas.width / dpr;
    const x = Math.min(200, w * 0.35) + 2, y = 6 + k * 26 + 13; // bars.js's layout
    const [r, g, b] = canvas.getContext("2d")!.getImageData(x * dpr, y * dpr, 1, 1).data;
    return "#" + [r, g, b].map((v) => v!.toString(16).padStart(2, "0")).join("");
  }, { id, label });
}

Deno.test({
  name: "charts in Chromium: holes, axes, colours, legend statistics and event labels",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const file = chartTrace();
    const app = createApp({ file, refreshMs: 600_000 });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const browser: Browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } }))
      .newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    try {
      await t.step(
        "a 20 s hole is a null in the lines, the heatmap and the sparklines",
        async () => {
          await page.goto(`${url}?tab=cpu&tz=UTC&range=all&smooth=1`);
          await chartsReady(page, "cpu");
          for (const id of ["cpu-busy", "fd"]) {
            const h = await holeOf(page, id);
            assert.ok(h.positions >= 1 && h.nulls === h.positions && h.around, `${id}: ${h}`);
          }
          // the heatmap's cells: the block it draws holds the null, and its readout says so
          const heat = await page.evaluate(({ a, b }) => {
            // deno-lint-ignore no-explicit-any
            const c = (globalThis as any).sysmon.charts.get("cpu-cores-heatmap");
            const t = c.u.data[0] as number[];
            return t.filter((x) => x > a && x < b).length;
          }, { a: HOLE_START, b: HOLE_END });
          assert.ok(heat >= 1, "a heatmap position inside the hole");
          await shot(page, "charts-hole-cpu");
          await page.goto(`${url}?tab=overview&tz=UTC&range=all&smooth=1`);
          await chartsReady(page, "overview");
          const spark = await holeOf(page, "spark-cpu");
          assert.ok(spark.positions >= 1 && spark.nulls === spark.positions, JSON.stringify(spark));
        },
      );

      await t.step(
        "the time axis writes the date once, beside the ticks, not in them",
        async () => {
          await page.goto(`${url}?tab=cpu&tz=UTC&range=all`);
          await chartsReady(page, "cpu");
          const axis = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const c = (globalThis as any).sysmon.charts.get("cpu-busy");
            return { ticks: c.u.axes[0]._values as string[], date: c.date() as string };
          });
          assert.ok(axis.ticks.length >= 3, axis.ticks.join("|"));
          for (const tick of axis.ticks) {
            assert.match(tick, /^\d\d:\d\d(:\d\d)?$/, `a time alone: ${JSON.stringify(tick)}`);
          }
          assert.equal(axis.date, "Tue 12 May 2026");
          // a window over midnight: the tick at the day's change is the date, alone
          const ticks = await page.evaluate(async () => {
            const { fmtTimeTicks } = await import("/static/js/format.js");
            const d = Date.UTC(2026, 4, 12, 22, 0, 0);
            return fmtTimeTicks([0, 1, 2, 3].map((h) => d + h * 3_600_000), 3_600_000, "UTC");
          });
          assert.deepEqual(ticks, ["22:00", "23:00", "13 May", "01:00"]);
        },
      );

      await t.step("tiny values get distinct ticks, and the y range holds the data", async () => {
        const y = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const u = (globalThis as any).sysmon.charts.get("fd").u;
          const values = (u.data[1] as (number | null)[]).filter((v) => v != null) as number[];
          return {
            ticks: u.axes[1]._values as string[],
            min: u.scales.y.min as number,
            max: u.scales.y.max as number,
            lo: Math.min(...values),
            hi: Math.max(...values),
          };
        });
        assert.ok(y.ticks.length >= 3, y.ticks.join("|"));
        assert.equal(new Set(y.ticks).size, y.ticks.length, `distinct: ${y.ticks.join("|")}`);
        assert.ok(y.ticks.some((s) => /e-14$/.test(s)), y.ticks.join("|"));
        assert.ok(y.min <= y.lo && y.max >= y.hi, JSON.stringify(y));
      });

      await t.step(
        "the legend has min, mean, max and last of the window, and follows a zoom",
        async () => {
          const before = (await legendOf(page, "cpu-busy"))[0]!;
          assert.deepEqual(Object.keys(before), ["Value", "Min", "Mean", "Max", "Last"]);
          assert.equal(before.Min, "0.00");
          assert.equal(before.Max, "100");
          assert.equal(before.Last, "100");
          assert.equal(before.Mean, "50.0");
          // drag over the first quarter of the chart
          const box = (await page.locator("#chart-cpu-busy .u-over").boundingBox())!;
          const y = box.y + box.height / 2;
          await page.mouse.move(box.x + 2, y);
          await page.mouse.down();
          await page.mouse.move(box.x + box.width * 0.25, y, { steps: 5 });
          await page.mouse.up();
          await page.waitForFunction(
            () => {
              // deno-lint-ignore no-explicit-any
              const u = (globalThis as any).sysmon?.charts.get("cpu-busy")?.u;
              return u && u.scales.x.max - u.scales.x.min < 300_000;
            },
            undefined,
            { timeout: 15_000 },
          );
          await chartsReady(page, "cpu");
          const after = (await legendOf(page, "cpu-busy"))[0]!;
          const expected = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const c = (globalThis as any).sysmon.charts.get("cpu-busy");
            const [s] = c.stats();
            return s;
          });
          assert.ok(Number(after.Max) < 40, `max of the zoomed window: ${after.Max}`);
          assert.notEqual(after.Last, before.Last);
          assert.ok(
            Math.abs(Number(after.Max) - expected.max) < 0.5,
            `${after.Max} ${expected.max}`,
          );
          await shot(page, "charts-legend-zoomed");
        },
      );

      await t.step("event labels do not overlap, stay inside the plot, and are text", async () => {
        const names = [
          "imported zone",
          "deploy <b>v2</b> & co",
          "canary 10 %",
          "canary 50 % with a rather long name that goes on",
          "rollback",
          "second rollback",
          "db vacuum",
        ];
        const events = [
          { name: "start of it all", at: T0 },
          ...names.map((name, k) => ({ name, at: T0 + 120_000 + k * 9_000 })),
          { name: "the very end of the trace", at: at(ROWS - 1) },
        ];
        for (const e of events) {
          const res = await fetch(`${url}api/events`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ name: e.name, timestamp: e.at }),
          });
          assert.equal(res.status, 201, await res.text());
        }
        for (const tab of ["cpu", "overview"]) {
          await page.goto(`${url}?tab=${tab}&tz=UTC&range=all`);
          await chartsReady(page, tab);
          await page.waitForFunction(() =>
            // deno-lint-ignore no-explicit-any
            ((globalThis as any).sysmon.markers.get("cpu-busy") ??
              // deno-lint-ignore no-explicit-any
              (globalThis as any).sysmon.markers.get("overview-cpu-mem"))?.drawn > 0
          );
          const infos = await page.evaluate(() =>
            // deno-lint-ignore no-explicit-any
            Object.fromEntries((globalThis as any).sysmon.markers)
          ) as Record<string, {
            drawn: number;
            labels: string[];
            boxes: { x: number; y: number; w: number; h: number }[];
            plot: { left: number; top: number; width: number; height: number };
            hidden: number;
          }>;
          let labelled = 0;
          for (const [id, m] of Object.entries(infos)) {
            if (m.drawn === 0) continue;
            labelled += m.boxes.length;
            for (const [i, a] of m.boxes.entries()) {
              const p = m.plot;
              assert.ok(
                a.x >= p.left - 0.5 && a.x + a.w <= p.left + p.width + 0.5 &&
                  a.y >= p.top - 0.5 && a.y + a.h <= p.top + p.height + 0.5,
                `${id}: label ${m.labels[i]} outside the plot`,
              );
              for (const b of m.boxes.slice(i + 1)) {
                const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y ||
                  b.y + b.h <= a.y;
                assert.ok(apart, `${id}: labels overlap: ${JSON.stringify([a, b])}`);
              }
            }
            // a label left out for want of room is counted (its names are in the tooltip)
            assert.ok(m.labels.length >= 3, `${id}: ${m.labels.join(" | ")}`);
            assert.equal(m.labels.length + m.hidden, m.drawn, id);
          }
          assert.ok(labelled > 0);
          const all = Object.values(infos).flatMap((m) => m.labels);
          assert.ok(all.includes("deploy <b>v2</b> & co"), "the name as text");
          assert.ok(all.includes("start of it all") && all.includes("the very end of the trace"));
          assert.equal(await page.locator("#view b").count(), 0, "no element from a name");
        }
        // the tooltip of a marker lists its name
        const hover = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const u = (globalThis as any).sysmon.charts.get("overview-cpu-mem").u;
          const r = u.over.getBoundingClientRect();
          return {
            x: r.left,
            y: r.top + r.height / 2,
            w: r.width,
            min: u.scales.x.min,
            max: u.scales.x.max,
          };
        });
        const ex = hover.x +
          ((T0 + 120_000 + 9_000 - hover.min) / (hover.max - hover.min)) * hover.w;
        await page.mouse.move(ex, hover.y);
        assert.equal(
          await page.getAttribute("#chart-overview-cpu-mem .u-over", "title"),
          "deploy <b>v2</b> & co",
        );
        await shot(page, "charts-markers");
        await page.locator("#chart-overview-cpu-mem").screenshot({
          path: `${ARTIFACTS}charts-markers-chart.png`,
        });
      });

      await t.step("a container has one colour in every chart, lines and bars", async () => {
        await page.goto(`${url}?tab=containers&tz=UTC&range=all`);
        await chartsReady(page, "containers");
        for (const k of CONTAINERS) {
          const cpu = await strokeOf(page, "ct-cpu", k.name);
          const mem = await strokeOf(page, "ct-mem", k.name);
          const bar = await barColorOf(page, "ct-top-mem", k.name);
          const barCpu = await barColorOf(page, "ct-top-cpu", k.name);
          assert.ok(cpu, `${k.name} in ct-cpu`);
          assert.equal(mem, cpu, `${k.name}: CPU and memory lines`);
          assert.equal(bar, cpu, `${k.name}: memory bar and lines`);
          assert.equal(barCpu, cpu, `${k.name}: CPU bar and lines`);
        }
        const colours = await Promise.all(CONTAINERS.map((k) => strokeOf(page, "ct-cpu", k.name)));
        assert.equal(new Set(colours).size, CONTAINERS.length, "one colour each");
        await shot(page, "charts-containers");
      });

      await t.step("series colours hold 3:1 against the panel in both themes", async () => {
        for (const theme of ["light", "dark"]) {
          await page.selectOption("#theme", theme);
          await chartsReady(page, "containers");
          const r = await page.evaluate(async () => {
            const { contrast } = await import("/static/js/palette.js");
            const bg = getComputedStyle(document.documentElement).getPropertyValue("--bg-panel")
              .trim();
            // deno-lint-ignore no-explicit-any
            const charts = [...(globalThis as any).sysmon.charts.values()].filter((c: any) =>
              c.u && c.kind === "line"
            );
            // deno-lint-ignore no-explicit-any
            const strokes = charts.flatMap((c: any) =>
              // deno-lint-ignore no-explicit-any
              c.u.series.slice(1).map((s: any, k: number) => String(s.stroke(c.u, k + 1)))
            );
            return { bg, worst: Math.min(...strokes.map((s: string) => contrast(s, bg))) };
          });
          assert.ok(r.worst >= 3, `${theme}: ${JSON.stringify(r)}`);
          await shot(page, `charts-containers-${theme}`);
        }
      });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await app.close();
    }
  },
});
