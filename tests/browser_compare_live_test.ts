/// <reference lib="dom" />
// Traces that join a comparison while the page is open, in Chromium: `sysmon serve DIR` over a
// directory of one trace, then a second host's trace written into it, then Start from the
// page's API. Without a reload, the page's bar names each trace as it joins and the CPU chart
// draws a line for it.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";
import { chromiumFor, launchChromium } from "./browser_kit.ts";

const haveChromium = chromiumFor("browser_compare_live_test");

/** The hosts the bar names, once they are `hosts` (at most 30 s; the page is not reloaded). */
async function hostsNamed(page: Page, hosts: string[]): Promise<string[]> {
  const named = () =>
    page.locator(".compare .trace-label").allTextContents()
      .then((names) => names.map((x) => x.split(" · ")[0]!));
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (JSON.stringify(await named()) === JSON.stringify(hosts)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return await named();
}

/** The labels of the Overview's CPU lines that have values. */
function cpuLines(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const u = (globalThis as any).sysmon?.charts?.get("overview-cpu-mem")?.u;
    if (!u) return [];
    // deno-lint-ignore no-explicit-any
    return u.series.slice(1).flatMap((s: any, k: number) =>
      String(s.label).startsWith("CPU") &&
        (u.data[k + 1] as (number | null)[]).some((v) => v != null)
        ? [String(s.label)]
        : []
    );
  });
}

Deno.test({
  name: "a trace written into the served directory, then one Started here, join the open page",
  ignore: !haveChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    const t0 = Date.now() - 120_000;
    writeTrace(`${dir}/a.parquet`, "hostA", t0, { n: 60 });
    const s = await startServe([dir, "--port", "0", "-i", "1"], { cwd: dir });
    const browser: Browser = await launchChromium();
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on("pageerror", (e) => problems.push(String(e)));
      await page.goto(`${s.url}?range=all`);
      await page.waitForFunction(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).sysmon?.charts?.has("overview-cpu-mem")
      );
      assert.equal(await page.locator(".compare").count(), 0, "one trace: no comparison yet");
      await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        (globalThis as any).notReloaded = true;
      });

      writeTrace(`${dir}/b.parquet`, "hostB", t0 + 10_000, { n: 60, cpu: 60 });
      assert.deepEqual(await hostsNamed(page, ["hostA", "hostB"]), ["hostA", "hostB"]);
      await page.waitForFunction(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).sysmon?.charts?.get("overview-cpu-mem")?.u.series.length > 3
      );
      assert.deepEqual(await cpuLines(page), ["CPU · hostA", "CPU · hostB"]);

      const start = await fetch(`${s.url}api/trace/start`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ output: "here.parquet", sampleInterval: 0.2, writeInterval: 1 }),
      });
      assert.equal(start.status, 200, await start.text());
      const host = Deno.hostname();
      assert.deepEqual(await hostsNamed(page, ["hostA", "hostB", host]), ["hostA", "hostB", host]);
      await page.waitForFunction(
        (host) => {
          // deno-lint-ignore no-explicit-any
          const u = (globalThis as any).sysmon?.charts?.get("overview-cpu-mem")?.u;
          // deno-lint-ignore no-explicit-any
          const k = u?.series.findIndex((x: any) => x.label === `CPU · ${host}`) ?? -1;
          return k > 0 && (u.data[k] as (number | null)[]).some((v) => v != null);
        },
        host,
        { timeout: 30_000 },
      );
      assert.ok(
        // deno-lint-ignore no-explicit-any
        await page.evaluate(() => (globalThis as any).notReloaded === true),
        "the page was reloaded",
      );
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await fetch(`${s.url}api/trace/stop`, { method: "POST" }).then((r) => r.body?.cancel())
        .catch(() => {});
      const r = await s.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  },
});
