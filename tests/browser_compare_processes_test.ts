/// <reference lib="dom" />
// `sysmon serve A B` in Chromium, the processes of both traces: the Processes tab draws a line
// per process and trace in the trace's colours (shades of it past the dashes), a legend name
// shows that process's history within its trace, a hostile name stays text; the CPU & Memory
// tab draws one per-core heatmap per trace and lists each trace's processes where a chart is
// clicked.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { ProcessRecord } from "../src/schema/columns.ts";
import { startServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";
import { proc } from "./process_trace.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const MiB = 2 ** 20;
const HOSTILE = "<script>globalThis.pwned=1</script>";

const haveChromium = chromiumFor("browser_compare_processes_test");

/** Waits until every chart of the panel of `tab` is built; returns their ids. */
async function chartsReady(page: Page, tab: string): Promise<string[]> {
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
    { timeout: 20_000 },
  );
  return await page.evaluate(() =>
    [...document.querySelectorAll("#panel [data-chart]")].map((f) =>
      (f as HTMLElement).dataset.chart!
    )
  );
}

interface Line {
  label: string;
  stroke: string;
  values: number;
}

/** Each line of a chart: its label, colour and the values it draws. */
function linesOf(page: Page, id: string): Promise<Line[]> {
  return page.evaluate((id) => {
    // deno-lint-ignore no-explicit-any
    const u = (globalThis as any).sysmon.charts.get(id).u;
    // deno-lint-ignore no-explicit-any
    return u.series.slice(1).map((s: any, k: number) => ({
      label: s.label as string,
      stroke: typeof s.stroke === "function" ? s.stroke(u, k + 1) : s.stroke,
      values: (u.data[k + 1] as (number | null)[]).filter((v) => v != null).length,
    }));
  }, id);
}

Deno.test({
  name: "Chromium: sysmon serve A B draws the processes of both traces, and a heatmap of each",
  ignore: !haveChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    const t0 = Date.UTC(2026, 4, 12, 9, 0, 0);
    // hostA: six processes (more than a trace's dashes), one with a hostile name.
    writeTrace(`${dir}/a.parquet`, "hostA", t0, {
      n: 90,
      cores: 4,
      processes: (i): ProcessRecord[] => [
        proc(100, "postgres", 20 + (i % 3), 400 * MiB),
        proc(101, "nginx", 15, 50 * MiB),
        proc(102, "python3", 12, 90 * MiB),
        proc(103, "sshd", 9, 8 * MiB),
        proc(104, "cron", 7, 4 * MiB),
        proc(666, HOSTILE, 5, 10 * MiB),
      ],
    });
    writeTrace(`${dir}/b.parquet`, "hostB", t0 + 20_000, {
      n: 90,
      cores: 2,
      cpu: 60,
      processes: (i): ProcessRecord[] => [
        proc(100, "postgres", 60 + (i % 3), 800 * MiB),
        proc(200, "redis", 40, 300 * MiB),
      ],
    });
    const s = await startServe([`${dir}/a.parquet`, `${dir}/b.parquet`, "--port", "0"]);
    const browser: Browser = await launchChromium();
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      await page.goto(`${s.url}?tab=processes&range=all`);
      await chartsReady(page, "processes");
      const lines = await linesOf(page, "proc-cpu");
      const of = (host: string) => lines.filter((l) => l.label.endsWith(` · ${host}`));
      assert.equal(of("hostA").length, 6, JSON.stringify(lines));
      assert.deepEqual(of("hostB").map((l) => l.label).sort(), [
        "postgres (100) · hostB",
        "redis (200) · hostB",
      ]);
      assert.ok(lines.every((l) => l.values >= 60), JSON.stringify(lines));
      // The traces' colours: none shared; hostA's fifth line a shade of its first's colour.
      const strokesA = new Set(of("hostA").map((l) => l.stroke));
      assert.ok(of("hostB").every((l) => !strokesA.has(l.stroke)), JSON.stringify(lines));
      assert.equal(of("hostB")[0]!.stroke, of("hostB")[1]!.stroke);
      assert.equal(strokesA.size, 2, JSON.stringify(lines));
      // The hostile name is a legend's text, not markup.
      const legend = await page.locator("#chart-proc-cpu .u-legend .u-label").allTextContents();
      assert.ok(legend.includes(`${HOSTILE} (666) · hostA`), JSON.stringify(legend));
      const pwned = await page.evaluate(() => (globalThis as { pwned?: number }).pwned ?? 0);
      assert.equal(pwned, 0);
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/compare-processes.png`, fullPage: true });
      await page.locator("#proc-list").screenshot({ path: `${ARTIFACTS}/compare-proc-list.png` });
      // A name in a legend: that process's history within its trace.
      await page.click(`#chart-proc-cpu .u-legend a.proc-link:text-is("redis (200) · hostB")`);
      await page.waitForFunction(() => new URL(location.href).searchParams.get("trace") === "1");
      const ids = await chartsReady(page, "processes");
      assert.ok(ids.includes("proc-one-cpu"), ids.join(", "));
      const own = await linesOf(page, "proc-one-cpu");
      assert.deepEqual(own.map((l) => l.label), ["redis (200) · hostB"]);
      assert.ok(own[0]!.values >= 60);
      assert.match(await page.locator(".proc-selected h2").textContent() ?? "", /in\s+hostB/);

      // CPU & Memory: a heatmap per trace, and each trace's processes where a chart is clicked.
      await page.click(`nav.tabs a:text-is("CPU & Memory")`);
      const cpuIds = await chartsReady(page, "cpu");
      assert.deepEqual(cpuIds.filter((id) => id.startsWith("cpu-cores-heatmap")), [
        "cpu-cores-heatmap-t0",
        "cpu-cores-heatmap-t1",
      ]);
      const canvases = await page.locator('figure[data-chart^="cpu-cores-heatmap"] canvas').count();
      assert.equal(canvases, 2);
      const titles = await page.locator('figure[data-chart^="cpu-cores-heatmap"] .chart-title')
        .allTextContents();
      assert.deepEqual(titles, [
        "Per-core CPU (4 cores) · hostA (%)",
        "Per-core CPU (2 cores) · hostB (%)",
      ]);
      assert.deepEqual(await page.locator(".procs-trace h3").allTextContents(), [
        " hostA",
        " hostB",
      ]);
      const box = (await page.locator("#chart-cpu-busy .u-over").boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction(() => new URL(location.href).searchParams.has("at"));
      await page.waitForFunction(() => document.querySelectorAll(".procs-trace").length === 2);
      const lists = await page.locator(".procs-trace").allTextContents();
      assert.match(lists[0]!, /hostA[\s\S]*postgres/);
      assert.match(lists[1]!, /hostB[\s\S]*redis/);
      assert.doesNotMatch(lists.join(" "), /no sample near/);
      await page.screenshot({ path: `${ARTIFACTS}/compare-cpu-heatmaps.png`, fullPage: true });
      await page.locator("#procs").screenshot({ path: `${ARTIFACTS}/compare-procs-at.png` });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      const r = await s.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  },
});
