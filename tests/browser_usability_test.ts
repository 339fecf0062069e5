/// <reference lib="dom" />
// The dashboard as a user works it, in Chromium (playwright-core) at 1600×1000, 1280×720 and
// 800 px wide: typing into the sidebar at human speed, the keyboard alone, the original tool's
// files, Start on one of them, folding the sidebar, small inconsistencies, and moving in time
// (wheel, keys, Shift + drag, zoom out, from–to). Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { columnDef, type Row } from "../src/schema/columns.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { createApp, type DashboardApp } from "../src/server/app.ts";
import { LiveSession } from "../src/live/session.ts";
import { TABS } from "../src/views/state.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";
import { sysmon, tempDir } from "./helpers.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const haveChromium = chromiumFor("browser_usability_test");

const HOUR = 3_600_000;
/** The synthetic trace's last sample: a whole minute, two hours of 10 s samples before it. */
const LAST = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

/** Two hours of a sysmon trace (sysmon's Parquet writer), one sample every 10 s. */
function writeLongTrace(path: string) {
  const t = new ParquetTrace({ path, utc: true });
  const rows: Row[] = [];
  for (let i = 0; i <= 720; i++) {
    rows.push({
      timestamp: (LAST - 2 * HOUR + i * 10_000) * 1000,
      cpu_busy_percent: 20 + (i % 30),
      sys_total: 16e9,
      sys_used: 4e9 + (i % 50) * 1e7,
      system_process_count: 300,
      system_thread_count: 900 + (i % 11),
      net_bytes_recv_per_sec: 1e6,
      net_bytes_sent_per_sec: 5e5,
      disk_read_bytes_per_sec: 2e6,
      disk_write_bytes_per_sec: 1e6,
    });
  }
  t.add(rows, (n) => columnDef(n)!);
  t.fold(traceMetadata({ utc: true, sampleInterval: 10, traceId: newTraceId() }, t.columns));
}

/** The original tool's file: 8 minutes of 2 s samples with a container from the 10th. */
function writeOriginal(path: string, tz: "utc" | "naive") {
  const rows = originalRows({ start: LAST - 480_000, n: 240, interval: 2, containerFrom: 10 });
  Deno.writeFileSync(path, originalParquetBytes(rows, { tz }));
}

interface Served {
  url: string;
  app: DashboardApp;
  server: Deno.HttpServer;
}

function serve(file: string): Served {
  const session = new LiveSession({
    file,
    defaults: { writeInterval: 1, enableGpu: false, enableDocker: false },
  });
  const app = createApp({ session, refreshMs: 60_000 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  return { url: `http://127.0.0.1:${server.addr.port}/`, app, server };
}

async function stop(s: Served, page: Page) {
  await page.goto("about:blank").catch(() => {}); // no poll of a server that is gone
  await s.server.shutdown();
  await s.app.close();
  await s.app.session.close();
}

/** Waits until the panel shows `tab` and every chart of it is built. */
async function ready(page: Page, tab: string) {
  await page.waitForFunction(
    (tab) => {
      const panel = document.getElementById("panel");
      if (panel?.dataset.tab !== tab || panel.classList.contains("htmx-request")) return false;
      // deno-lint-ignore no-explicit-any
      const charts = (globalThis as any).sysmon?.charts as Map<string, unknown> | undefined;
      const figs = [...panel.querySelectorAll("[data-chart]")] as HTMLElement[];
      return charts !== undefined && figs.every((f) => charts.has(f.dataset.chart!));
    },
    tab,
    { timeout: 15_000 },
  );
}

/** The zoom in the address bar, [start, end] epoch ms, or null. */
const zoomOf = (page: Page) => {
  const z = new URL(page.url()).searchParams.get("zoom");
  return z ? z.split("-").map(Number) as [number, number] : null;
};

/** What has the keyboard focus: its role, id, text and whether it is the selected tab. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName ?? "",
      id: el?.id ?? "",
      role: el?.getAttribute("role") ?? "",
      text: el?.textContent?.trim() ?? "",
      selected: el?.getAttribute("aria-selected") === "true",
    };
  });

async function shot(page: Page, name: string) {
  Deno.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}usability-${name}.png` });
}

Deno.test({
  name: "the dashboard as a user works it: typing, keyboard, original files, folding, time",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const dir = tempDir();
    const long = `${dir}/long.parquet`;
    writeLongTrace(long);
    const main = serve(long);
    const browser: Browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("dialog", (d) => d.accept());
    try {
      await t.step(
        "a zone, then smoothing, typed at human speed, then Apply: both kept",
        async () => {
          // A server a little slow to answer, as over a network: nothing typed may be lost.
          await page.route("**/tab/**", async (r) => {
            await new Promise((ok) => setTimeout(ok, 300));
            await r.continue();
          });
          await page.goto(`${main.url}?tab=cpu`);
          await ready(page, "cpu");
          await page.click("input[name=tz]", { clickCount: 3 });
          await page.keyboard.type("UTC", { delay: 120 });
          await page.keyboard.press("Tab"); // to Data time zone
          await page.keyboard.press("Tab"); // to Smoothing
          await page.keyboard.press("Control+A");
          await page.keyboard.type("5", { delay: 120 });
          await page.click("#controls button[type=submit]");
          await page.waitForFunction(() => location.search.includes("smooth=5"));
          await ready(page, "cpu");
          const q = new URL(page.url()).searchParams;
          assert.equal(q.get("tz"), "UTC", page.url());
          assert.equal(q.get("smooth"), "5", page.url());
          assert.equal(await page.getAttribute("#panel", "data-tz"), "UTC");
          assert.equal(await page.getAttribute("#panel", "data-smooth"), "5");
          assert.equal(await page.inputValue("input[name=tz]"), "UTC");
          assert.equal(await page.inputValue("input[name=smooth]"), "5");
          // A choice applies at once and keeps what is typed elsewhere and not applied yet.
          await page.click("input[name=smooth]", { clickCount: 3 });
          await page.keyboard.type("7", { delay: 120 });
          await page.selectOption("select[name=mode]", "file");
          await page.waitForFunction(() => location.search.includes("mode=file"));
          await ready(page, "cpu");
          assert.equal(new URL(page.url()).searchParams.get("smooth"), "7");
          await page.unroute("**/tab/**");
        },
      );

      await t.step(
        "the keyboard: a skip link, the tabs pattern, focus kept on the tab",
        async () => {
          await page.setViewportSize({ width: 1600, height: 1000 });
          await page.goto(main.url);
          await ready(page, "overview");
          await page.keyboard.press("Tab");
          assert.deepEqual(
            [(await focused(page)).tag, (await focused(page)).text],
            ["A", "Skip to the tabs"],
          );
          await page.keyboard.press("Enter");
          let f = await focused(page);
          assert.equal(f.role, "tab", "one Tab and Enter reach the tabs");
          assert.ok(f.selected && f.text === "Overview", JSON.stringify(f));
          assert.equal(await page.locator("[role=tablist] [role=tab]").count(), TABS.length);
          assert.equal(await page.locator("[role=tab][tabindex='0']").count(), 1, "one Tab stop");
          await page.keyboard.press("ArrowRight");
          f = await focused(page);
          assert.deepEqual([f.role, f.text, f.selected], ["tab", "CPU & Memory", false]);
          await page.keyboard.press("ArrowLeft");
          await page.keyboard.press("ArrowLeft"); // wraps to the last
          assert.equal((await focused(page)).text, TABS.at(-1)!.label);
          await page.keyboard.press("Home");
          await page.keyboard.press("ArrowRight");
          await page.keyboard.press("Enter");
          await ready(page, "cpu");
          f = await focused(page);
          assert.deepEqual([f.role, f.text, f.selected], ["tab", "CPU & Memory", true]);
          assert.equal(await page.getAttribute("#panel", "role"), "tabpanel");
          assert.equal(await page.getAttribute("#panel", "aria-labelledby"), "tab-cpu");
          await page.keyboard.press("Space"); // chooses too (the tab already shown)
          await page.keyboard.press("Tab");
          assert.equal((await focused(page)).id, "panel", "Tab goes from the tab to its panel");
        },
      );

      await t.step("the original tool's file: disk busy, network errors and drops", async () => {
        const file = `${tempDir()}/system_monitor.parquet`;
        writeOriginal(file, "utc");
        const served = serve(file);
        try {
          for (const tab of ["io", "containers"]) {
            await page.goto(`${served.url}?tab=${tab}&range=all`);
            await ready(page, tab);
            const hidden = await page.$$eval(
              "#panel .chart",
              (figs) =>
                figs.filter((f) => /Not in this trace/.test(f.textContent ?? ""))
                  .map((f) => f.querySelector(".chart-title")?.textContent),
            );
            assert.deepEqual(hidden, [], `${tab}: charts without data`);
          }
          await page.goto(`${served.url}?tab=io&range=all`);
          await ready(page, "io");
          const values = await page.evaluate(() =>
            ["disk-util", "net-errors", "iops", "packets"].map((id) => {
              // deno-lint-ignore no-explicit-any
              const u = (globalThis as any).sysmon.charts.get(id)?.u;
              return [id, u ? u.data.slice(1).flat().filter((v: unknown) => v != null).length : 0];
            })
          );
          for (const [id, n] of values) assert.ok((n as number) > 100, `${id}: ${n} values`);
          assert.match(await page.textContent("#chart-disk-util") ?? "", /all disks summed/);
          await shot(page, "original-io");
        } finally {
          await stop(served, page);
        }
      });

      await t.step("Start on the original tool's file works with what is pre-filled", async () => {
        const file = `${tempDir()}/system_monitor.parquet`;
        writeOriginal(file, "naive");
        const served = serve(file);
        try {
          await page.goto(served.url);
          await ready(page, "overview");
          const output = await page.inputValue("#tracing input[name=output]");
          assert.notEqual(output, "system_monitor.parquet", "not the original's own file");
          // Its refusal names the page's controls, not command-line flags.
          await page.fill("#tracing input[name=output]", "system_monitor.parquet");
          await page.click("#tracing button[type=submit]");
          await page.waitForSelector("#tracing p.error");
          const refusal = await page.textContent("#tracing p.error") ?? "";
          assert.match(refusal, /Output file/);
          assert.doesNotMatch(refusal + (await page.textContent("#trace-status")), / --?\w/);
          await page.reload();
          await ready(page, "overview");
          assert.equal(await page.inputValue("#tracing input[name=output]"), output);
          await page.fill("#tracing input[name=sampleInterval]", "0.3");
          await page.click("#tracing button[type=submit]");
          await page.waitForSelector("#trace-status[data-state=running]", { timeout: 20_000 });
          assert.match(await page.textContent("#tracing .ok") ?? "", /Tracing into/);
          // Live: the header's count and the Samples card's stay the same number.
          await page.waitForFunction(
            () => {
              const panel = document.getElementById("panel");
              // deno-lint-ignore no-explicit-any
              return panel?.dataset.live === "1" && (globalThis as any).sysmon.live.appended >= 4;
            },
            undefined,
            { timeout: 20_000 },
          );
          const counts = await page.evaluate(() => [
            /: ([\d,]+) samples/.exec(document.querySelector(".source-line .window")!.textContent!)
              ?.[1],
            document.querySelector("#card-samples .card-value")!.textContent,
          ]);
          assert.equal(counts[0], counts[1], `header ${counts[0]}, card ${counts[1]}`);
          await page.click("#tracing button:has-text('Stop')");
          await page.waitForSelector("#trace-status[data-state=stopped]", { timeout: 20_000 });
        } finally {
          await stop(served, page);
        }
        // The data zone chosen is said as chosen, not suggested again.
        const naive = serve(file);
        try {
          await page.goto(`${naive.url}?src=UTC`);
          await ready(page, "overview");
          const notices = await page.textContent("#panel") ?? "";
          assert.match(notices, /read as UTC/);
          assert.doesNotMatch(notices, /Choose UTC/);
        } finally {
          await stop(naive, page);
        }
      });

      await t.step(
        "sidebar sections fold, stay folded after a reload; charts stay in view",
        async () => {
          await page.setViewportSize({ width: 1280, height: 720 });
          await page.goto(main.url);
          await ready(page, "overview");
          await page.click("button.fold[data-fold=events]");
          assert.equal(
            await page.getAttribute("button.fold[data-fold=events]", "aria-expanded"),
            "false",
          );
          assert.equal(await page.isVisible("#events input[name=name]"), false);
          await page.click("button.fold[data-fold=watch]");
          await page.reload();
          await ready(page, "overview");
          assert.equal(await page.isVisible("#events input[name=name]"), false, "still folded");
          assert.equal(await page.isVisible("#watch form"), false);
          assert.equal(await page.isVisible("#tracing form"), true);
          await page.click("button.fold[data-fold=events]");
          await page.click("button.fold[data-fold=watch]");
          assert.equal(await page.isVisible("#events input[name=name]"), true);
          // Adding an event far down the sidebar leaves the charts where they are.
          await page.setViewportSize({ width: 1600, height: 1000 });
          const live = (await page.locator("#tracing").boundingBox())!;
          assert.ok(live.y < 1000, `Live tracing at ${live.y} px: above the fold`);
          await page.fill("#events input[name=name]", "deploy");
          await page.click("#events button:has-text('Add now')");
          await page.waitForSelector("#events .event-name:has-text('deploy')");
          const chart = (await page.locator("#panel .chart").first().boundingBox())!;
          assert.ok(chart.y >= 0 && chart.y < 1000, `chart at ${chart.y} px`);
          await page.setViewportSize({ width: 1280, height: 720 });
          await page.locator("#watch").scrollIntoViewIfNeeded();
          const chart2 = (await page.locator("#panel .chart").first().boundingBox())!;
          assert.ok(chart2.y + chart2.height > 0 && chart2.y < 720, `chart at ${chart2.y} px`);
          // 800 px wide: the charts begin on the first screen.
          await page.setViewportSize({ width: 800, height: 900 });
          await page.goto(main.url);
          await ready(page, "overview");
          const first = (await page.locator("#panel .chart").first().boundingBox())!;
          assert.ok(first.y < 900, `first chart at ${first.y} px on an 800×900 screen`);
          await shot(page, "800");
          await page.setViewportSize({ width: 1280, height: 720 });
        },
      );

      await t.step("small inconsistencies are gone", async () => {
        // The Process Tree tab's sidebar says of the trace what the others say.
        await page.goto(main.url);
        await ready(page, "overview");
        const zone = await page.textContent("select[name=src] option[value=auto]");
        await page.goto(`${main.url}?tab=proctree`);
        await page.waitForSelector(".proctree");
        assert.equal(await page.textContent("select[name=src] option[value=auto]"), zone);
        assert.equal(await page.locator("a:has-text('Download CSV')").count(), 1);
        // A thread's id links to its process's tree.
        const tid = [...Deno.readDirSync(`/proc/${Deno.pid}/task`)].map((e) => Number(e.name))
          .find((n) => n !== Deno.pid)!;
        await page.goto(`${main.url}?tab=proctree&pid=${tid}`);
        await page.click(`a:has-text('Show the tree of process ${Deno.pid}')`);
        await page.waitForFunction((pid) => location.search.includes(`pid=${pid}`), Deno.pid);
        assert.doesNotMatch(await page.textContent("#panel") ?? "", /sysmon proctree/);
        // A mistyped zone stays in its field, marked, to be fixed in place.
        await page.goto(main.url);
        await ready(page, "overview");
        await page.fill("input[name=tz]", "Europe/Berln");
        await page.press("input[name=tz]", "Enter");
        await page.waitForSelector("#tz-error");
        assert.equal(await page.inputValue("input[name=tz]"), "Europe/Berln");
        assert.equal(await page.getAttribute("input[name=tz]", "aria-invalid"), "true");
        // Process CPU %: one decimal in every row.
        const out = `${tempDir()}/procs.parquet`;
        const r = await sysmon([
          "run",
          "-o",
          out,
          "--sample-interval",
          "0.5",
          "--duration",
          "2",
          "-q",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const procs = serve(out);
        try {
          await page.goto(`${procs.url}?tab=cpu`);
          await ready(page, "cpu");
          await page.waitForSelector("#procs table");
          const cells = await page.$$eval(
            "#procs tbody tr td:nth-child(4)",
            (tds) => tds.map((td) => td.textContent ?? ""),
          );
          assert.ok(cells.length > 3);
          for (const c of cells) assert.match(c, /^\d[\d,]*\.\d$/, cells.join(" "));
        } finally {
          await stop(procs, page);
        }
      });

      await t.step("moving in time: wheel, keys, Shift + drag, zoom out, from–to", async () => {
        await page.goto(`${main.url}?tab=io&range=1h&tz=UTC`);
        await ready(page, "io");
        const box = (await page.locator("#chart-net .u-over").boundingBox())!;
        const x = box.x + box.width * 0.75, y = box.y + box.height / 2;
        await page.mouse.move(x, y);
        const at = await page.evaluate((px) => {
          // deno-lint-ignore no-explicit-any
          const u = (globalThis as any).sysmon.charts.get("net").u;
          return u.posToVal(px, "x") as number;
        }, x - box.x);
        await page.keyboard.down("Control");
        await page.mouse.wheel(0, -300);
        await page.keyboard.up("Control");
        await page.waitForFunction(() => location.search.includes("zoom="));
        await ready(page, "io");
        let [a, b] = zoomOf(page)!;
        assert.ok(b - a < HOUR * 0.8, `zoomed in: ${(b - a) / 60_000} min`);
        assert.ok(Math.abs((at - a) / (b - a) - 0.75) < 0.03, "around the pointer");
        assert.equal(new URL(page.url()).searchParams.get("range"), "1h");
        // ← on the focused panel: half a window earlier.
        await page.click(".source-line");
        assert.equal((await focused(page)).id, "panel");
        await page.keyboard.press("ArrowLeft");
        await page.waitForFunction((a) => !location.search.includes(`zoom=${a}-`), a);
        await ready(page, "io");
        let [a2, b2] = zoomOf(page)!;
        assert.ok(Math.abs(a2 - (a - (b - a) / 2)) < 2000 && Math.abs(b2 - a2 - (b - a)) < 2000);
        assert.equal((await focused(page)).id, "panel", "focus stays on the panel");
        // Shift + drag to the left: later by the distance dragged.
        [a, b] = [a2, b2];
        const box2 = (await page.locator("#chart-net .u-over").boundingBox())!;
        await page.keyboard.down("Shift");
        await page.mouse.move(box2.x + box2.width * 0.6, box2.y + 50);
        await page.mouse.down();
        await page.mouse.move(box2.x + box2.width * 0.5, box2.y + 50, { steps: 4 });
        await page.mouse.move(box2.x + box2.width * 0.4, box2.y + 50, { steps: 4 });
        await page.mouse.up();
        await page.keyboard.up("Shift");
        await page.waitForFunction((a) => !location.search.includes(`zoom=${a}-`), a);
        await ready(page, "io");
        [a2, b2] = zoomOf(page)!;
        const moved = (a2 - a) / (b - a);
        assert.ok(Math.abs(moved - 0.2) < 0.03, `moved ${moved} of the window`);
        assert.ok(Math.abs(b2 - a2 - (b - a)) < 2000, "same span");
        // Zoom out 2×.
        await page.click("#nav-out");
        await page.waitForFunction((a) => !location.search.includes(`zoom=${a}-`), a2);
        await ready(page, "io");
        const [a3, b3] = zoomOf(page)!;
        assert.ok(Math.abs((b3 - a3) / (b2 - a2) - 2) < 0.01, "twice the span");
        // From–to, in the display zone (Tokyo), before the range: All, zoomed there.
        await page.goto(`${main.url}?tab=io&range=1h&tz=Asia/Tokyo`);
        await ready(page, "io");
        const wall = (ms: number) => new Date(ms + 9 * HOUR).toISOString().slice(0, 19);
        await page.click(".from-to-box summary");
        await page.fill("#from-to input[name=from]", wall(LAST - 90 * 60_000));
        await page.fill("#from-to input[name=to]", wall(LAST - 70 * 60_000));
        await page.click("#from-to button[type=submit]");
        await page.waitForFunction(() => location.search.includes("zoom="));
        await ready(page, "io");
        assert.deepEqual(zoomOf(page), [LAST - 90 * 60_000, LAST - 70 * 60_000]);
        assert.equal(new URL(page.url()).searchParams.get("range"), "all");
        const x0 = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).sysmon.charts.get("net").u.scales.x.min
        );
        assert.equal(x0, LAST - 90 * 60_000);
        await shot(page, "from-to");
      });

      // Not a server gone away, nor the browser's line for the refused Start (checked above).
      const relevant = problems.filter((p) =>
        !/ERR_CONNECTION_REFUSED|net::ERR_ABORTED|status of 4(00|09|22) \(/.test(p)
      );
      assert.deepEqual(relevant, [], "no errors, warnings or CSP violations in the page");
    } finally {
      await stop(main, page);
      await browser.close();
    }
  },
});
