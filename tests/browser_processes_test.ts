/// <reference lib="dom" />
// The Processes tab in a real browser (Debian's Chromium, driven by playwright-core): `sysmon run`
// records this machine while a busy process with a name no other process has spins for 30 s;
// the served trace's Processes tab names it in a chart legend, and a click on that name shows
// its own history. Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { createApp } from "../src/server/app.ts";
import { spawnSysmon, tempDir } from "./helpers.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const SHELL = "/bin/sh";

const haveChromium = chromiumFor("browser_processes_test");

/**
 * A copy of /bin/sh under a name no other process has (15 characters at most: the kernel's
 * comm), spinning on a builtin (one process, one busy CPU).
 */
function spinner(dir: string): { name: string; start: () => Deno.ChildProcess } {
  const name = `spin${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const path = `${dir}/${name}`;
  Deno.copyFileSync(SHELL, path);
  Deno.chmodSync(path, 0o755);
  // Raised priority (where allowed; nice runs it as it is otherwise): the suite runs other
  // busy processes beside it, and it must stay the busiest, as the check has it.
  const start = () =>
    new Deno.Command("nice", {
      args: ["-n", "-15", path, "-c", "while :; do :; done"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  return { name, start };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 40 s of this machine at 0.5 s, the spinner busy from 4 s to 34 s. */
async function recordTrace(dir: string, spin: ReturnType<typeof spinner>): Promise<string> {
  const out = `${dir}/trace.parquet`;
  const run = spawnSysmon([
    "run",
    "-o",
    out,
    "--sample-interval",
    "0.5",
    "--write-interval",
    "5",
    "--duration",
    "40",
    "--no-gpu",
    "--no-docker",
    "-q",
  ]);
  await sleep(4000);
  const busy = spin.start();
  try {
    await sleep(30_000);
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
  }
  const status = await run.status;
  assert.equal(status.code, 0, "sysmon run failed");
  return out;
}

/** Waits until every chart of the Processes panel is built; returns their ids. */
async function chartsReady(page: Page): Promise<string[]> {
  await page.waitForFunction(
    () => {
      const panel = document.getElementById("panel");
      if (panel?.dataset.tab !== "processes") return false;
      const figs = [...panel.querySelectorAll("[data-chart]")] as HTMLElement[];
      // deno-lint-ignore no-explicit-any
      const charts = (globalThis as any).sysmon?.charts as Map<string, unknown> | undefined;
      return charts !== undefined && figs.length > 0 &&
        figs.every((f) => charts.has(f.dataset.chart!));
    },
    undefined,
    { timeout: 20_000 },
  );
  return await page.evaluate(() =>
    [...document.querySelectorAll("#panel [data-chart]")].map((f) =>
      (f as HTMLElement).dataset.chart!
    )
  );
}

/** The legend labels of every chart of the panel, by chart id. */
function legends(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(() => {
    const out: Record<string, string[]> = {};
    for (const fig of document.querySelectorAll("#panel [data-chart]")) {
      out[(fig as HTMLElement).dataset.chart!] = [
        ...fig.querySelectorAll(".u-legend tr.u-series .u-label"),
      ]
        .map((l) => l.textContent ?? "");
    }
    return out;
  });
}

Deno.test({
  name:
    "Chromium: a busy process of 30 s in a real trace is named in a Processes legend; its name shows its own history",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const spin = spinner(dir);
    const file = await recordTrace(dir, spin);
    const app = createApp({ file, refreshMs: 60_000 });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const browser: Browser = await launchChromium();
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") {
          problems.push(`${m.type()}: ${m.text()}`);
        }
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(`${url}?range=all`);
      await page.click(`nav.tabs a:text-is("Processes")`);
      const ids = await chartsReady(page);
      assert.ok(ids.includes("proc-cpu"), ids.join());
      const before = await legends(page);
      const named = Object.entries(before).filter(([, l]) =>
        l.some((x) => x.startsWith(spin.name))
      );
      assert.ok(
        named.length > 0,
        `no legend names ${spin.name}: ${JSON.stringify(before)}`,
      );
      assert.ok(before["proc-cpu"]!.some((x) => new RegExp(`^${spin.name} \\(\\d+\\)$`).test(x)));
      // Every name in the CPU legend links to that process's history (and to no other).
      const links = await page.evaluate(() =>
        [...document.querySelectorAll("#chart-proc-cpu .u-legend a.proc-link")].map((a) => ({
          text: a.textContent ?? "",
          href: a.getAttribute("href") ?? "",
        }))
      );
      assert.equal(links.length, before["proc-cpu"]!.length, JSON.stringify(links));
      for (const l of links) {
        const [, name, pid] = /^(.*) \((\d+)\)$/.exec(l.text)!;
        if (name!.includes("\\")) continue; // a name with escapes shown
        assert.equal(new URL(l.href, url).searchParams.get("proc"), `${pid}:${name}`, l.text);
      }
      // It is in the list too, found by its name.
      assert.match(await page.textContent("#proc-list") ?? "", new RegExp(spin.name));
      Deno.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}processes.png`, fullPage: true });

      // A click on its name in the CPU legend: its own history, without reloading the page.
      await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 7));
      await page.click(`#chart-proc-cpu .u-legend a.proc-link:text-matches("^${spin.name} ")`);
      await page.waitForFunction(() => new URL(location.href).searchParams.has("proc"));
      const after = await chartsReady(page);
      assert.ok(after.includes("proc-one-cpu"), after.join());
      assert.match(await page.textContent(".proc-selected h2") ?? "", new RegExp(spin.name));
      const own = await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        const u = (globalThis as any).sysmon.charts.get("proc-one-cpu").u;
        const v = (u.data[1] as (number | null)[]).filter((x) => x != null) as number[];
        return { n: v.length, max: Math.max(...v), label: u.series[1].label as string };
      });
      assert.ok(own.label.startsWith(`${spin.name} (`), own.label);
      assert.ok(own.n >= 20, `${own.n} values: 30 s at 0.5 s, bucketed`);
      assert.ok(own.max >= 50, `busy: ${own.max} %`);
      // Its window: its 30 s and a margin, not the 40 s of the trace.
      const span = await page.evaluate(() => {
        const p = document.getElementById("panel")!;
        return Number(p.dataset.end) - Number(p.dataset.start);
      });
      assert.ok(span >= 28_000 && span <= 45_000, `window ${span} ms`);
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { marker: number }).marker),
        7,
        "htmx swapped the view: no full page load",
      );
      await page.screenshot({ path: `${ARTIFACTS}processes-history.png`, fullPage: true });
      await page.goto("about:blank");
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await app.close();
    }
  },
});
