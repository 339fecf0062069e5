/// <reference lib="dom" />
// `sysmon serve A B` in Chromium: two traces recorded at the same time under two host names.
// The page names both hosts, the Overview's CPU chart draws two lines in two colours, and
// "From each start" aligns them.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startServe } from "./fault_kit.ts";
import { MAIN, tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const haveChromium = chromiumFor("browser_compare_test");

/** The Overview's CPU and memory chart: each line's label, colour and values drawn. */
interface Line {
  label: string;
  stroke: string;
  values: number;
}

function cpuChart(page: Page): Promise<Line[]> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const u = (globalThis as any).sysmon.charts.get("overview-cpu-mem").u;
    // deno-lint-ignore no-explicit-any
    return u.series.slice(1).map((s: any, k: number) => ({
      label: s.label as string,
      stroke: typeof s.stroke === "function" ? s.stroke(u, k + 1) : s.stroke,
      values: (u.data[k + 1] as (number | null)[]).filter((v) => v != null).length,
    }));
  });
}

async function ready(page: Page, align: string) {
  await page.waitForFunction(
    (align) => {
      const panel = document.getElementById("panel");
      // deno-lint-ignore no-explicit-any
      const charts = (globalThis as any).sysmon?.charts as Map<string, unknown> | undefined;
      return panel?.dataset.align === align && charts?.has("overview-cpu-mem");
    },
    align,
    { timeout: 15_000 },
  );
}

/** `sysmon run` for 3 s into `out` with this machine named `host` (its own UTS namespace). */
async function runAs(host: string, out: string) {
  const r = await new Deno.Command("unshare", {
    args: [
      "-u",
      "sh",
      "-c",
      'hostname "$0" && exec "$@"',
      host,
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      "run",
      "-o",
      out,
      "--sample-interval",
      "0.2",
      "--duration",
      "3",
      "--no-docker",
      "--no-gpu",
      "-q",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: r.success, stderr: new TextDecoder().decode(r.stderr) };
}

/** Whether this user may make a UTS namespace and name the machine in it. */
const canRename = (() => {
  try {
    return new Deno.Command("unshare", { args: ["-u", "hostname", "probe"] }).outputSync().success;
  } catch {
    return false;
  }
})();
if (haveChromium && !canRename) {
  console.warn(
    "browser_compare_test: real traces under two host names skipped: unshare -u refused",
  );
}

Deno.test({
  name:
    "two real sysmon run traces, recorded at once under two host names, are served side by side",
  ignore: !haveChromium || !canRename,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    const [a, b] = await Promise.all([
      runAs("hostA", `${dir}/a.parquet`),
      runAs("hostB", `${dir}/b.parquet`),
    ]);
    assert.ok(a.ok && b.ok, a.stderr + b.stderr);
    const s = await startServe([`${dir}/a.parquet`, `${dir}/b.parquet`, "--port", "0"]);
    const browser: Browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(s.url);
      await ready(page, "wall"); // recorded at once: wall time
      const names = await page.locator(".compare .trace-label").allTextContents();
      assert.deepEqual(names.map((n) => n.split(" · ")[0]), ["hostA", "hostB"]);
      const lines = (await cpuChart(page)).filter((l) => l.label.startsWith("CPU"));
      assert.deepEqual(lines.map((l) => l.label), ["CPU · hostA", "CPU · hostB"]);
      assert.notEqual(lines[0]!.stroke, lines[1]!.stroke);
      assert.ok(lines.every((l) => l.values >= 5), JSON.stringify(lines));
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/compare-real.png`, fullPage: true });
    } finally {
      await browser.close();
      const r = await s.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  },
});

Deno.test({
  name: "the page of sysmon serve A B names both hosts and draws each trace in its colour",
  ignore: !haveChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    const t0 = Date.now() - 120_000;
    writeTrace(`${dir}/a.parquet`, "hostA", t0, { n: 90, gpu: true });
    writeTrace(`${dir}/b.parquet`, "hostB", t0 + 20_000, { n: 90, cpu: 60 });
    const s = await startServe([`${dir}/a.parquet`, `${dir}/b.parquet`, "--port", "0"]);
    const browser: Browser = await launchChromium();
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      await page.goto(`${s.url}?range=all`);
      await ready(page, "wall");
      const names = await page.locator(".compare .trace-label").allTextContents();
      assert.equal(names.length, 2);
      assert.match(names[0]!, /^hostA · /);
      assert.match(names[1]!, /^hostB · /);
      assert.ok(await page.getByText("hostA", { exact: false }).first().isVisible());
      assert.ok(await page.getByText("hostB", { exact: false }).first().isVisible());
      const lines = (await cpuChart(page)).filter((l) => l.label.startsWith("CPU"));
      assert.deepEqual(lines.map((l) => l.label), ["CPU · hostA", "CPU · hostB"]);
      assert.notEqual(lines[0]!.stroke, lines[1]!.stroke);
      assert.ok(lines.every((l) => l.values >= 80), JSON.stringify(lines));
      // The memory lines take the same colours: one colour per trace.
      const all = await cpuChart(page);
      const colourOf = (host: string) =>
        new Set(all.filter((l) => l.label.endsWith(host)).map((l) => l.stroke));
      assert.equal(colourOf("hostA").size, 1);
      assert.equal(colourOf("hostB").size, 1);
      // The swatches are painted in the same colours.
      const swatch = await page.locator(".compare .trace-swatch").first().evaluate((el) =>
        getComputedStyle(el).backgroundColor
      );
      assert.notEqual(swatch, "rgba(0, 0, 0, 0)");
      // Each card's sparkline: one line per trace, in the traces' colours (the CPU chart's).
      const sparks = await page.evaluate(() => {
        const out: string[][] = [];
        // deno-lint-ignore no-explicit-any
        for (const [id, c] of (globalThis as any).sysmon.charts as Map<string, any>) {
          if (!id.startsWith("spark-")) continue;
          out.push(
            // deno-lint-ignore no-explicit-any
            c.u.series.slice(1).map((x: any, k: number) =>
              typeof x.stroke === "function" ? x.stroke(c.u, k + 1) : x.stroke
            ),
          );
        }
        return out;
      });
      assert.ok(sparks.length > 0, "no sparklines");
      for (const strokes of sparks) assert.deepEqual(strokes, lines.map((l) => l.stroke));
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/compare-wall.png`, fullPage: true });
      // From each start: both lines begin at 0:00:00, the URL says so.
      await page.getByRole("link", { name: "From each start" }).click();
      await ready(page, "start");
      assert.match(page.url(), /align=start/);
      const start = await page.evaluate(() =>
        Number(document.getElementById("panel")!.dataset.start)
      );
      assert.equal(start, 0);
      const after = (await cpuChart(page)).filter((l) => l.label.startsWith("CPU"));
      assert.equal(after.length, 2);
      // Elapsed time, not dates of 1970: the axis, its ticks and the header.
      const axis = await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        const u = (globalThis as any).sysmon.charts.get("overview-cpu-mem").u;
        const a = u.axes[0];
        return { label: a.label as string, ticks: a.values(u, [0, 60_000], 0, 0, 60_000) };
      });
      assert.equal(axis.label, "Time since each trace's start");
      assert.deepEqual(axis.ticks, ["+0:00:00", "+0:01:00"]);
      const header = await page.locator(".window").textContent();
      assert.match(header ?? "", /Showing \+0:00:00 to \+0:\d\d:\d\d: /);
      const html = await page.content();
      const at = html.indexOf("1970");
      assert.ok(at < 0, `a 1970 date on the page: ${html.slice(Math.max(0, at - 300), at + 100)}`);
      await page.screenshot({ path: `${ARTIFACTS}/compare-start.png`, fullPage: true });
      // Only the second trace shown.
      await page.locator(".compare .trace").first().click();
      await page.waitForFunction(() => location.search.includes("traces=1"));
      await ready(page, "start");
      const one = (await cpuChart(page)).filter((l) => l.label.startsWith("CPU"));
      assert.deepEqual(one.map((l) => l.label), ["CPU · hostB"]);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      const r = await s.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  },
});
