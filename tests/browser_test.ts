/// <reference lib="dom" />
// The dashboard in a real browser (Debian's Chromium, driven by playwright-core), served by the
// real app over traces `sysmon run` wrote. Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { type ColumnDef, columnDef, type Row } from "../src/schema/columns.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { createApp, type DashboardApp } from "../src/server/app.ts";
import { installFakeNvidiaSmi, readParquet, sysmon, tempDir } from "./helpers.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const H100 = new URL(
  "./fixtures/captures/nvidia-smi/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
  import.meta.url,
).pathname;

const haveChromium = chromiumFor("browser_test");

/** A 3 s trace by `sysmon run`, with two GPUs from the fake nvidia-smi when its captures exist. */
async function recordTrace(): Promise<string> {
  const out = `${tempDir()}/trace.parquet`;
  let env: Record<string, string> | undefined;
  try {
    Deno.statSync(H100);
    env = {
      PATH: `${installFakeNvidiaSmi()}:${Deno.env.get("PATH") ?? ""}`,
      FAKE_NVIDIA_SMI_CAPTURE: H100,
      FAKE_NVIDIA_SMI_GPUS: "2",
    };
  } catch {
    // no captures: a trace without GPU columns (the GPU tab then says so)
  }
  const r = await sysmon(
    ["run", "-o", out, "--sample-interval", "0.2", "--duration", "3", "--no-docker", "-q"],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  return out;
}

/** The rows of `src` with three containers' columns added, written by sysmon's Parquet writer. */
async function withContainers(src: string): Promise<string> {
  const out = `${tempDir()}/containers.parquet`;
  const { rows } = await readParquet(src);
  const t = new ParquetTrace({ path: out, utc: true });
  const defs = (name: string): ColumnDef =>
    columnDef(name) ?? { name, kind: "double", unit: "percent", help: "container metric" };
  const list: Row[] = rows.map((r, i) => {
    const row: Row = {};
    for (const [c, v] of Object.entries(r)) {
      row[c] = c === "timestamp"
        ? (v as Date).getTime() * 1000
        : typeof v === "bigint"
        ? Number(v)
        : v as number | string | null;
    }
    ["web", "db", "<img src=x onerror=alert(1)>"].forEach((name, k) => {
      row[`docker_${name}_cpu_percent`] = 10 * (k + 1) + (i % 5);
      row[`docker_${name}_mem_percent`] = 5 * (k + 1);
      row[`docker_${name}_open_files`] = 20 + k;
      row[`docker_${name}_net_rx_bytes_per_sec`] = 1e6 * (k + 1);
      row[`docker_${name}_net_tx_bytes_per_sec`] = 5e5 * (k + 1);
      row[`docker_${name}_blkio_read_bytes_per_sec`] = 2e6;
      row[`docker_${name}_blkio_write_bytes_per_sec`] = 1e6;
    });
    return row;
  });
  t.add(list, defs);
  t.fold(traceMetadata({ utc: true, sampleInterval: 0.2, traceId: newTraceId() }, t.columns));
  return out;
}

interface Served {
  url: string;
  app: DashboardApp;
  server: Deno.HttpServer;
}

function serve(file: string): Served {
  const app = createApp({ file, refreshMs: 60_000 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  return { url: `http://127.0.0.1:${server.addr.port}/`, app, server };
}

async function stop(s: Served, page?: Page) {
  await page?.goto("about:blank"); // no poll of a server that is gone
  await s.server.shutdown();
  await s.app.close();
}

/** Waits until every chart of the panel is built; returns their ids. */
async function chartsReady(page: Page, tab: string): Promise<string[]> {
  await page.waitForFunction(
    (tab) => {
      const panel = document.getElementById("panel");
      if (panel?.dataset.tab !== tab) return false;
      const figs = [...panel.querySelectorAll("[data-chart]")] as HTMLElement[];
      // Not before the page's modules have run (static/js/main.js sets globalThis.sysmon).
      // deno-lint-ignore no-explicit-any
      const charts = (globalThis as any).sysmon?.charts as Map<string, unknown> | undefined;
      return charts !== undefined && figs.every((f) => charts.has(f.dataset.chart!));
    },
    tab,
    { timeout: 15_000 },
  );
  return await page.evaluate(() =>
    [...document.querySelectorAll("#panel [data-chart]")].map((f) =>
      (f as HTMLElement).dataset.chart!
    )
  );
}

/** For each chart: x positions, values that are not null, and pixels drawn on its canvas. */
function drawn(page: Page) {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const charts = (globalThis as any).sysmon.charts as Map<string, any>;
    return [...charts.values()].map((c) => {
      const canvas = c.canvas as HTMLCanvasElement;
      const ctx = canvas.getContext("2d")!;
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i]! > 0) ink++;
      const data = c.u ? c.u.data as (number | null)[][] : [[0], [1]];
      return {
        id: c.id as string,
        kind: c.kind as string,
        points: data[0]!.length,
        values: c.kind === "heatmap" ? -1 : data.slice(1).flat().filter((v) => v != null).length,
        ink,
      };
    });
  });
}

async function assertDrawn(page: Page, what: string) {
  const list = await drawn(page);
  assert.ok(list.length > 0, `${what}: no chart`);
  for (const c of list) {
    assert.ok(c.points > 0, `${what}/${c.id}: no x positions`);
    assert.ok(c.values !== 0, `${what}/${c.id}: no values`);
    assert.ok(c.ink > 200, `${what}/${c.id}: canvas blank (${c.ink} pixels)`);
  }
}

async function shot(page: Page, name: string) {
  Deno.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** The x scale of every uPlot chart of the panel (sparklines and bars excluded). */
function xScales(page: Page) {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const charts = (globalThis as any).sysmon.charts as Map<string, any>;
    return [...charts.values()].filter((c) => c.u && c.kind !== "spark")
      .map((c) => ({
        id: c.id as string,
        min: c.u.scales.x.min as number,
        max: c.u.scales.x.max as number,
      }));
  });
}

Deno.test({
  name: "the dashboard in Chromium: tabs, zoom, time zones, theme, hidden series, PNG, errors",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const file = await recordTrace();
    const main = serve(file);
    const browser: Browser = await launchChromium();
    const problems: string[] = [];
    const external: string[] = [];
    const context = await browser.newContext({
      viewport: { width: 1400, height: 1000 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith("http://127.0.0.1:") && !r.url().startsWith("data:")) {
        external.push(r.url());
      }
    });
    try {
      await t.step(
        "the Overview draws its cards' sparklines and the CPU/memory chart",
        async () => {
          await page.goto(main.url);
          const ids = await chartsReady(page, "overview");
          assert.ok(ids.includes("overview-cpu-mem"));
          assert.ok(ids.filter((id) => id.startsWith("spark-")).length >= 5, ids.join());
          await assertDrawn(page, "overview");
          assert.match(await page.textContent("#card-samples .card-value") ?? "", /^\d+$/);
          assert.equal(await page.textContent("#card-events .card-value"), "0");
          await shot(page, "overview");
        },
      );

      await t.step(
        "every tab renders its charts with data, without reloading the page",
        async () => {
          await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
          for (
            const [tab, label] of [["cpu", "CPU & Memory"], ["io", "I/O & Network"], ["gpu", "GPU"]]
          ) {
            await page.click(`nav.tabs a:text-is("${label}")`);
            const ids = await chartsReady(page, tab!);
            await page.waitForFunction((tab) => location.search.includes(`tab=${tab}`), tab);
            if (tab === "gpu" && ids.length === 0) {
              assert.match(await page.textContent("#panel") ?? "", /No GPU columns/);
              continue;
            }
            assert.ok(ids.length >= (tab === "cpu" ? 10 : 2), `${tab}: ${ids.join()}`);
            if (tab === "cpu") assert.ok(ids.includes("cpu-cores-heatmap"));
            if (tab === "gpu") assert.ok(ids.includes("gpu-util") && ids.includes("gpu-mem"));
            await assertDrawn(page, tab!);
            await shot(page, tab!);
          }
          assert.equal(
            await page.evaluate(() => (globalThis as unknown as { marker: number }).marker),
            42,
            "htmx swapped fragments: no full page load",
          );
          await page.goBack();
          await chartsReady(page, "io");
        },
      );

      await t.step(
        "dragging on one chart zooms every chart of the tab; double-click resets",
        async () => {
          await page.goto(`${main.url}?tab=cpu`);
          await chartsReady(page, "cpu");
          const before = await xScales(page);
          const box = (await page.locator("#chart-cpu-busy .u-over").boundingBox())!;
          // the cursor is shared: hovering one chart moves the others' cursor
          await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
          const cursors = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const charts = (globalThis as any).sysmon.charts as Map<string, any>;
            return ["cpu-busy", "mem-pct", "load"].map((id) => charts.get(id).u.cursor.idx);
          });
          assert.ok(
            cursors[0] != null && cursors.every((i) => i === cursors[0]),
            `cursor ${cursors}`,
          );
          await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
          await page.mouse.down();
          await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 5 });
          await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
          await page.mouse.up();
          await page.waitForFunction(() => new URL(location.href).searchParams.has("zoom"));
          await chartsReady(page, "cpu");
          await page.waitForFunction(() => document.getElementById("panel")?.dataset.zoom);
          const zoom = new URL(page.url()).searchParams.get("zoom")!.split("-").map(Number);
          const after = await xScales(page);
          assert.ok(after.length >= 10);
          for (const s of after) {
            assert.equal(s.min, zoom[0], `${s.id} starts at the zoom`);
            assert.equal(s.max, zoom[1], `${s.id} ends at the zoom`);
          }
          const span = before[0]!.max - before[0]!.min;
          assert.ok(zoom[1]! - zoom[0]! < span * 0.7, "narrower than before");
          await shot(page, "cpu-zoomed");
          // the zoom is in the URL: a reload shows the same window
          await page.reload();
          await chartsReady(page, "cpu");
          assert.deepEqual((await xScales(page)).map((s) => [s.min, s.max])[0], zoom);
          await page.dblclick("#chart-mem-pct .u-over");
          await page.waitForFunction(() => !new URL(location.href).searchParams.has("zoom"));
          await chartsReady(page, "cpu");
          await page.waitForFunction(() => !document.getElementById("panel")?.dataset.zoom);
          const reset = await xScales(page);
          assert.equal(reset[0]!.min, before[0]!.min);
          assert.equal(reset[0]!.max, before[0]!.max);
        },
      );

      await t.step("clicking a chart lists the processes of that moment", async () => {
        const box = (await page.locator("#chart-cpu-busy .u-over").boundingBox())!;
        await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
        await page.waitForFunction(() => new URL(location.href).searchParams.has("at"));
        assert.match(await page.textContent("#procs") ?? "", /Sample at|no per-process records/);
      });

      await t.step("the display time zone relabels axes, legends and times", async () => {
        await page.goto(`${main.url}?tab=cpu&tz=UTC`);
        await chartsReady(page, "cpu");
        const label = () =>
          page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const u = (globalThis as any).sysmon.charts.get("cpu-busy").u;
            return {
              axis: u.axes[0].label as string,
              ticks: (u.axes[0]._values ?? []).join("|") as string,
              legend: u.series[0].value(u, u.data[0][0]) as string,
            };
          });
        const utc = await label();
        assert.equal(utc.axis, "Time (UTC)");
        assert.match(utc.legend, / UTC$/);
        await page.fill("input[name=tz]", "Asia/Tokyo");
        await page.press("input[name=tz]", "Enter");
        await page.waitForFunction(() =>
          document.getElementById("panel")?.dataset.tz === "Asia/Tokyo"
        );
        await chartsReady(page, "cpu");
        const tokyo = await label();
        assert.equal(tokyo.axis, "Time (Asia/Tokyo)");
        assert.match(tokyo.legend, / GMT\+9$/);
        assert.notEqual(tokyo.ticks, utc.ticks, "tick labels move with the zone");
        const hours = (s: string) => Number(/ (\d\d):/.exec(s)![1]);
        assert.equal((hours(utc.legend) + 9) % 24, hours(tokyo.legend));
        assert.match(await page.textContent(".source-line") ?? "", /GMT\+9/);
        assert.match(page.url(), /tz=Asia%2FTokyo/);
        await shot(page, "cpu-tokyo");
        await page.fill("input[name=tz]", "Mars/Olympus");
        await page.press("input[name=tz]", "Enter");
        await page.waitForSelector("p.error:has-text('is not a time zone')");
        assert.equal(await page.getAttribute("#panel", "data-tz"), "local");
      });

      await t.step(
        "the theme is kept across reloads and applied before the first paint",
        async () => {
          await page.goto(main.url);
          await chartsReady(page, "overview");
          await page.selectOption("#theme", "dark");
          assert.equal(await page.getAttribute("html", "data-theme"), "dark");
          await page.reload({ waitUntil: "commit" });
          await page.waitForSelector("body");
          assert.equal(await page.getAttribute("html", "data-theme"), "dark");
          await chartsReady(page, "overview");
          const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          assert.equal(bg, "rgb(18, 21, 27)");
          assert.equal(await page.inputValue("#theme"), "dark");
          await shot(page, "overview-dark");
          await page.selectOption("#theme", "system");
          await page.emulateMedia({ colorScheme: "dark" });
          assert.equal(
            await page.evaluate(() => getComputedStyle(document.body).backgroundColor),
            bg,
          );
          await page.emulateMedia({ colorScheme: "light" });
          assert.notEqual(
            await page.evaluate(() => getComputedStyle(document.body).backgroundColor),
            bg,
          );
          await page.selectOption("#theme", "light");
        },
      );

      await t.step("hidden series stay hidden after a refresh", async () => {
        await page.goto(`${main.url}?tab=cpu`);
        await chartsReady(page, "cpu");
        await page.click("#chart-cpu-split .u-legend .u-series:has-text('user') .u-label");
        const shown = () =>
          page.evaluate(() =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.charts.get("cpu-split").u.series.map((s: any) => s.show)
          );
        assert.equal((await shown())[1], false);
        await page.reload();
        await chartsReady(page, "cpu");
        assert.equal((await shown())[1], false, "still hidden");
        await page.click("#chart-cpu-split .u-legend .u-series:has-text('user') .u-label");
        assert.equal((await shown())[1], true);
      });

      await t.step("a chart exports as PNG", async () => {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("button[data-png=cpu-busy]"),
        ]);
        assert.equal(download.suggestedFilename(), "sysmon-cpu-busy.png");
        const bytes = Deno.readFileSync((await download.path())!);
        assert.deepEqual([...bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
        assert.ok(bytes.length > 2000);
      });

      await t.step(
        "the Containers tab: lines, sums and bars of the busiest containers",
        async () => {
          const served = serve(await withContainers(file));
          try {
            await page.goto(`${served.url}?tab=containers`);
            const ids = await chartsReady(page, "containers");
            for (
              const id of [
                "ct-cpu",
                "ct-mem",
                "ct-files",
                "ct-net",
                "ct-disk",
                "ct-top-cpu",
                "ct-top-mem",
              ]
            ) {
              assert.ok(ids.includes(id), `${id} in ${ids}`);
            }
            await assertDrawn(page, "containers");
            // hostile names are text: no element was made from them
            assert.equal(await page.locator("#view img").count(), 0);
            assert.ok(
              (await page.textContent(".containers .picks") ?? "").includes(
                "<img src=x onerror=alert(1)>",
              ),
            );
            await page.check(".containers input[value=db]");
            await page.waitForFunction(() => location.search.includes("c=db"));
            await chartsReady(page, "containers");
            const labels = await page.evaluate(() =>
              // deno-lint-ignore no-explicit-any
              (globalThis as any).sysmon.charts.get("ct-cpu").u.series.slice(1).map((s: any) =>
                s.label
              )
            );
            assert.deepEqual(labels, ["db"]);
            await shot(page, "containers");
          } finally {
            await stop(served, page);
          }
        },
      );

      await t.step(
        "a broken file shows its message, and the page waits for a missing one",
        async () => {
          const dir = tempDir();
          const bad = `${dir}/broken.parquet`;
          Deno.writeTextFileSync(bad, "not a parquet file at all");
          const served = serve(bad);
          try {
            await page.goto(served.url);
            await page.waitForSelector(".problem.error .message");
            const msg = await page.textContent(".problem.error .message");
            assert.ok(msg && msg.length > 10, `message: ${msg}`);
            await shot(page, "broken-file");
          } finally {
            await stop(served, page);
          }
          const later = `${dir}/later.parquet`;
          const waiting = serve(later);
          try {
            await page.goto(waiting.url);
            await page.waitForSelector(".problem.waiting");
            Deno.copyFileSync(file, later);
            await page.waitForSelector("[data-chart=overview-cpu-mem]", { timeout: 10_000 });
            await chartsReady(page, "overview");
          } finally {
            await stop(waiting, page);
          }
        },
      );

      assert.deepEqual(external, [], "the page loads nothing from outside");
      const relevant = problems.filter((p) => !/ERR_CONNECTION_REFUSED|net::ERR_ABORTED/.test(p));
      assert.deepEqual(relevant, [], "no errors, warnings or CSP violations in the console");
    } finally {
      await browser.close();
      await stop(main);
    }
  },
});
