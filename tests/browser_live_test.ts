/// <reference lib="dom" />
// The live side of the dashboard in a real browser (Debian's Chromium, driven by
// playwright-core): tracing started from the page, charts growing without a reload, events and
// their markers, CSV import, watch points, the process tree of real processes, hostile names.
// Screenshots go to test-artifacts/.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Browser, Page } from "playwright-core";
import { createApp, type DashboardApp } from "../src/server/app.ts";
import { LiveSession } from "../src/live/session.ts";
import { readParquet, tempDir } from "./helpers.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const HOSTILE_EVENT = "<img src=x onerror=window.__pwned=1>";

const haveChromium = chromiumFor("browser_live_test");

interface Served {
  url: string;
  app: DashboardApp;
  server: Deno.HttpServer;
  dir: string;
}

function serve(): Served {
  const dir = tempDir();
  const session = new LiveSession({
    file: `${dir}/live.parquet`,
    defaults: { sampleInterval: 1, writeInterval: 1, enableGpu: false, enableDocker: false },
  });
  const app = createApp({ session, refreshMs: 60_000 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  return { url: `http://127.0.0.1:${server.addr.port}/`, app, server, dir };
}

async function stop(s: Served, page?: Page) {
  await page?.goto("about:blank");
  await s.server.shutdown();
  await s.app.close();
  await s.app.session.close();
}

async function launch(): Promise<{ browser: Browser; page: Page; problems: string[] }> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // Name the element behind any CSP violation (the console says only that one happened).
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) => {
      const el = e.target as Element | null;
      console.warn(`CSP ${e.violatedDirective} on ${el?.outerHTML?.slice(0, 160) ?? "?"}`);
    })
  );
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => d.accept());
  page.on("request", (r) => {
    if (!r.url().startsWith("http://127.0.0.1:") && !r.url().startsWith("data:")) {
      problems.push(`external request: ${r.url()}`);
    }
  });
  return { browser, page, problems };
}

/**
 * Console problems that matter: not a server gone away, nor the browser's own line for a
 * refused form (409/422 answer with the section and the reason, which the tests check).
 */
// htmx logs a request it aborts as an error (sendAbort, then its afterRequest): a view swap
// replaces a poll still in flight on purpose (hx-sync replace), like net::ERR_ABORTED.
const relevant = (problems: string[]) =>
  problems.filter((p) =>
    !/ERR_CONNECTION_REFUSED|net::ERR_ABORTED|status of 4(09|22) \(|htmx:(sendAbort|afterRequest),/
      .test(p)
  );

async function shot(page: Page, name: string) {
  Deno.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** x positions of a chart (0 when it is not built). */
function points(page: Page, id: string): Promise<number> {
  return page.evaluate((id) => {
    // deno-lint-ignore no-explicit-any
    const c = (globalThis as any).sysmon.charts.get(id);
    return c?.u ? (c.u.data[0] as number[]).length : 0;
  }, id);
}

/** What the marker plugin drew on each time chart. */
function markers(page: Page): Promise<Record<string, { drawn: number; labels: string[] }>> {
  return page.evaluate(() =>
    // deno-lint-ignore no-explicit-any
    Object.fromEntries((globalThis as any).sysmon.markers)
  );
}

const pwned = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);

Deno.test({
  name: "live tracing in Chromium: Start, the charts grow, events and markers, import, watch, Stop",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const s = serve();
    const { browser, page, problems } = await launch();
    try {
      await t.step("without a trace or a tracer the page waits for the file", async () => {
        await page.goto(s.url);
        await page.waitForSelector(".problem.waiting");
        assert.equal(await page.getAttribute("#trace-status", "data-state"), "idle");
      });

      await t.step(
        "Start on the page traces this machine; the charts grow without a reload",
        async () => {
          await page.fill("#tracing input[name=sampleInterval]", "0.5");
          await page.click("#tracing button[type=submit]");
          await page.waitForSelector("#trace-status[data-state=running]", { timeout: 20_000 });
          assert.match(
            await page.textContent("#tracing .ok") ?? "",
            /Tracing into .*live\.parquet/,
          );
          // Auto mode goes live: the panel appends what the tracer samples.
          await page.waitForSelector("#panel[data-live='1'] [data-chart=overview-cpu-mem]", {
            timeout: 20_000,
          });
          await page.waitForFunction(() =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon?.charts.get("overview-cpu-mem")?.u
          );
          await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
          const before = await points(page, "overview-cpu-mem");
          await page.waitForFunction(
            (n) =>
              // deno-lint-ignore no-explicit-any
              (globalThis as any).sysmon.charts.get("overview-cpu-mem").u.data[0].length >= n + 4,
            before,
            { timeout: 15_000 },
          );
          assert.equal(
            await page.evaluate(() => (globalThis as unknown as { marker: number }).marker),
            42,
            "the same page: new samples were appended, not reloaded",
          );
          // The newest point is at most one sample interval and a second (plus slack) old.
          const lag = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const t = (globalThis as any).sysmon.charts.get("overview-cpu-mem").u.data[0];
            return Date.now() - t[t.length - 1];
          });
          assert.ok(lag < 0.5 * 1000 + 1000 + 1000, `newest point ${lag} ms old`);
          const stats = await page.evaluate(() =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.live as { polls: number; appended: number }
          );
          assert.ok(stats.appended >= 4, JSON.stringify(stats));
          // the x axis follows the newest sample
          const x = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const u = (globalThis as any).sysmon.charts.get("overview-cpu-mem").u;
            return { max: u.scales.x.max, last: u.data[0][u.data[0].length - 1] };
          });
          assert.equal(x.max, x.last);
          assert.match(await page.textContent("#card-samples .card-value") ?? "", /^\d+$/);
          await shot(page, "live-overview");
        },
      );

      await t.step("hidden series stay hidden while samples arrive", async () => {
        await page.click("#chart-overview-cpu-mem .u-legend .u-series:has-text('Memory') .u-label");
        const n = await points(page, "overview-cpu-mem");
        await page.waitForFunction(
          (n) =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.charts.get("overview-cpu-mem").u.data[0].length > n + 1,
          n,
        );
        const shown = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).sysmon.charts.get("overview-cpu-mem").u.series.map((s: any) => s.show)
        );
        assert.deepEqual(shown, [true, true, false]);
        await page.click("#chart-overview-cpu-mem .u-legend .u-series:has-text('Memory') .u-label");
      });

      await t.step("a zoom stays while samples arrive; Pause stops the updates", async () => {
        const scale = () =>
          page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const u = (globalThis as any).sysmon.charts.get("overview-cpu-mem").u;
            return { min: u.scales.x.min as number, max: u.scales.x.max as number };
          });
        const before = await scale();
        const zoom = `${Math.round(before.min)}-${Math.round((before.min + before.max) / 2)}`;
        await page.goto(`${s.url}?zoom=${zoom}`);
        await page.waitForSelector("#panel[data-live='1'][data-zoom]");
        await page.waitForFunction(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).sysmon?.charts.get("overview-cpu-mem")?.u
        );
        const zoomed = await scale();
        const n = await points(page, "overview-cpu-mem");
        await page.waitForFunction(
          (n) =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.charts.get("overview-cpu-mem").u.data[0].length >= n + 2,
          n,
        );
        assert.deepEqual(await scale(), zoomed, "the zoomed window stays");
        assert.deepEqual([zoomed.min, zoomed.max], zoom.split("-").map(Number));

        await page.goto(s.url);
        await page.waitForSelector("#panel[data-live='1'] [data-chart=overview-cpu-mem]");
        await page.check("input[name=pause]");
        await page.waitForSelector("#panel[data-paused='1']");
        await page.waitForFunction(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).sysmon?.charts.get("overview-cpu-mem")?.u
        );
        const paused = await points(page, "overview-cpu-mem");
        await page.waitForTimeout(2500);
        assert.equal(await points(page, "overview-cpu-mem"), paused, "paused: no new points");
        await page.uncheck("input[name=pause]");
        await page.waitForSelector("#panel[data-live='1']:not([data-paused])");
        await page.waitForFunction(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).sysmon?.charts.get("overview-cpu-mem")?.u
        );
        const resumed = await points(page, "overview-cpu-mem");
        await page.waitForFunction(
          (n) =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.charts.get("overview-cpu-mem").u.data[0].length > n,
          resumed,
        );
      });

      await t.step("a watch point (CPU% > 0) adds an automatic event", async () => {
        await page.fill("#watch input[name=cpu]", "0");
        await page.fill("#watch input[name=for]", "0"); // fire at the first sample above
        await page.click("#watch button[type=submit]");
        await page.waitForSelector("#watch .ok:has-text('Watching CPU % > 0')");
        await page.waitForSelector("#events-list .event.auto", { timeout: 15_000 });
        assert.match(
          await page.textContent("#events-list .event.auto .event-name") ?? "",
          /^CPU% > 0 \(now \d+\.\d\)$/,
        );
        // kept across visits: the form shows it after a reload
        await page.reload();
        assert.equal(await page.inputValue("#watch input[name=cpu]"), "0");
        await page.waitForSelector("#panel[data-live='1']");
        // off again, and Clear auto events removes what it added
        await page.fill("#watch input[name=cpu]", "");
        await page.click("#watch button[type=submit]");
        await page.waitForSelector("#watch .ok:has-text('No watch points')");
        await page.click("#watch button:has-text('Clear auto events')");
        await page.waitForSelector("#events .ok:has-text('automatic event')");
        assert.equal(await page.locator("#events-list .event.auto").count(), 0);
      });

      await t.step("an event added now shows as a marker on every time chart, inert", async () => {
        await page.fill("#events input[name=name]", HOSTILE_EVENT);
        await page.click("#events button:has-text('Add now')");
        await page.waitForSelector(`#events-list .event-name[title="${HOSTILE_EVENT}"]`);
        assert.match(await page.textContent("#events .ok") ?? "", /Added/);
        await page.waitForFunction(
          (name) =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.markers.get("overview-cpu-mem")?.labels.some((l: string) =>
              l.startsWith(name.slice(0, 20))
            ),
          HOSTILE_EVENT,
          { timeout: 10_000 },
        );
        assert.equal(await page.getAttribute("#events-list", "data-count"), "1");
        assert.equal(await page.textContent("#card-events .card-value"), "1");
        assert.equal(await page.locator("#events img, #panel img").count(), 0);
        assert.equal(await pwned(page), undefined);
        await shot(page, "live-events");

        await page.click("nav.tabs a:text-is('CPU & Memory')");
        await page.waitForSelector("#panel[data-tab=cpu][data-live='1'] [data-chart=cpu-busy]");
        await page.waitForFunction(() => {
          // deno-lint-ignore no-explicit-any
          const m = (globalThis as any).sysmon.markers as Map<string, { drawn: number }>;
          return ["cpu-busy", "mem-pct", "cpu-cores-heatmap", "load"].every((id) =>
            (m.get(id)?.drawn ?? 0) >= 1
          );
        });
        const all = await markers(page);
        const timeCharts = await page.evaluate(() =>
          [...document.querySelectorAll("#panel figure.chart[data-chart]")]
            .map((f) => (f as HTMLElement).dataset.chart!)
        );
        for (const id of timeCharts) {
          assert.ok((all[id]?.drawn ?? 0) >= 1, `${id}: ${JSON.stringify(all[id])}`);
        }
        await shot(page, "live-cpu-markers");
        // Show markers off: none drawn
        await page.uncheck("#show-markers");
        assert.equal((await markers(page))["cpu-busy"]!.drawn, 0);
        await page.check("#show-markers");
        assert.ok((await markers(page))["cpu-busy"]!.drawn >= 1);
      });

      await t.step("Import CSV: a header and a bad row; the page names the line", async () => {
        await page.setInputFiles("#events input[type=file]", {
          name: "events.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(
            "event,timestamp\ndeploy,2024-05-01T10:00:00Z\nbroken,yesterday-ish\nnaive,2024-05-01 12:00\n",
          ),
        });
        const before = Number(await page.getAttribute("#events-list", "data-count"));
        await page.click("#events button:has-text('Import CSV')");
        await page.waitForSelector("#events .line-errors");
        const text = await page.textContent("#events .line-errors") ?? "";
        assert.match(text, /line 3: 'yesterday-ish' is not a date and time/);
        assert.match(await page.textContent("#events .error") ?? "", /nothing imported, 1 bad row/);
        await page.setInputFiles("#events input[type=file]", {
          name: "good.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(
            "event,timestamp\ndeploy,2024-05-01T10:00:00Z\nnaive,2024-05-01 12:00\n",
          ),
        });
        await page.click("#events button:has-text('Import CSV')");
        await page.waitForSelector(
          "#events .ok:has-text('imported 2 events (header row recognised)')",
        );
        const after = Number(await page.getAttribute("#events-list", "data-count"));
        assert.equal(after, before + 2);
        assert.ok(await page.locator("#events-list .event-name[title=naive]").count() === 1);
      });

      await t.step(
        "thousands of events stay cheap to draw: close markers merge into ×N",
        async () => {
          const now = Date.now();
          const lines = ["event,timestamp"];
          for (let i = 0; i < 3000; i++) {
            lines.push(`bulk ${i},${new Date(now - 9000 + i * 3).toISOString()}`);
          }
          await page.setInputFiles("#events input[type=file]", {
            name: "bulk.csv",
            mimeType: "text/csv",
            buffer: Buffer.from(lines.join("\n")),
          });
          await page.click("#events button:has-text('Import CSV')");
          await page.waitForSelector("#events .ok:has-text('imported 3000 events')");
          await page.waitForFunction(() =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).sysmon.markers.get("cpu-busy")?.labels.some((l: string) =>
              l.startsWith("×")
            )
          );
          const cost = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const g = globalThis as any;
            const u = g.sysmon.charts.get("cpu-busy").u;
            const t0 = performance.now();
            for (let i = 0; i < 20; i++) u.redraw(false);
            return { ms: (performance.now() - t0) / 20, info: g.sysmon.markers.get("cpu-busy") };
          });
          assert.ok(cost.info.drawn < 300, `${cost.info.drawn} markers drawn for 3000 events`);
          assert.ok(cost.ms < 30, `a redraw takes ${cost.ms.toFixed(1)} ms`);
          assert.match(
            await page.textContent("#events-list .hint") ?? "",
            /3,00\d events, the newest 100 listed/,
          );
          await shot(page, "live-many-events");
        },
      );

      await t.step("Stop writes every sample to the file", async () => {
        await page.click("#tracing button:has-text('Stop')");
        await page.waitForSelector("#trace-status[data-state=stopped]", { timeout: 30_000 });
        assert.match(await page.textContent("#tracing .ok") ?? "", /Stopped: \d+ samples written/);
        const status = await (await fetch(`${s.url}api/trace/status`)).json();
        const { rows } = await readParquet(`${s.dir}/live.parquet`);
        assert.equal(rows.length, status.samples, "every sample is in the file");
        assert.equal(status.rowsWritten, status.samples);
        assert.ok(rows.length >= 10, `${rows.length} rows`);
        // Auto mode: no longer live, the panel shows the file
        await page.waitForSelector("#panel[data-live='0'][data-tab=cpu]", { timeout: 10_000 });
        await shot(page, "live-stopped");
      });

      assert.equal(await pwned(page), undefined);
      assert.deepEqual(relevant(problems), [], "no errors, CSP violations or outside requests");
    } finally {
      await browser.close();
      await stop(s);
    }
  },
});

/** A tree of `sleep` processes, one of them named `<script>…` (a symlink to sleep), one very long. */
async function sleepTree(dir: string, tag: string) {
  const sleep = ["/usr/bin/sleep", "/bin/sleep"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  })!;
  const hostile = `${dir}/<script>${tag}`;
  const long = `${dir}/${tag}-${"x".repeat(180)}`;
  Deno.symlinkSync(sleep, hostile);
  Deno.symlinkSync(sleep, long);
  const child = new Deno.Command("bash", {
    args: ["-c", 'sleep 300 & "$1" 300 & "$2" 300 & wait', "bash", hostile, long],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // wait until the three children exist
  const deadline = Date.now() + 10_000;
  let kids: number[] = [];
  while (Date.now() < deadline) {
    kids = Deno.readTextFileSync(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(
      /\s+/,
    ).filter(Boolean).map(Number);
    if (kids.length === 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(kids.length, 3, "three children");
  return { child, kids, hostileName: `<script>${tag}`, longName: `${tag}-${"x".repeat(180)}` };
}

Deno.test({
  name:
    "the Process Tree tab in Chromium: text and graph views, find by name, snapshot, hostile names",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const s = serve();
    const dir = tempDir();
    const tag = `pt${crypto.randomUUID().slice(0, 6)}`;
    const tree = await sleepTree(dir, tag);
    const { browser, page, problems } = await launch();
    try {
      await t.step("the text view: names, PIDs, threads, totals and bars by command", async () => {
        await page.goto(`${s.url}?tab=proctree&pid=${tree.child.pid}`);
        await page.waitForSelector(".pt-text");
        const text = await page.textContent(".pt-text") ?? "";
        assert.match(text, new RegExp(`^bash\\(${tree.child.pid}\\) \\[threads=1\\]`));
        for (const pid of tree.kids) {
          assert.match(text, new RegExp(`[├└]─ .*\\(${pid}\\) \\[threads=1\\]`));
        }
        assert.ok(text.includes(`${tree.hostileName}(`), "the <script> name is text");
        assert.ok(text.includes(tree.longName), "the long name");
        assert.match(
          await page.textContent(".pt-totals") ?? "",
          /Total Processes: 4 • Total Threads: 4/,
        );
        assert.equal(await page.locator(".pt-bars svg.bars").count(), 2);
        assert.ok((await page.textContent(".pt-bars") ?? "").includes("sleep"));
        await shot(page, "proctree-text");
      });

      await t.step("the graph view: one node per process; a click shows its details", async () => {
        await page.click("nav.pt-views a:text-is('Graph view')");
        await page.waitForSelector("svg.pt-graph");
        assert.equal(await page.locator("svg.pt-graph .pt-node").count(), 4);
        assert.equal(await page.locator("nav.tabs").count(), 1, "the view replaced, not nested");
        assert.match(page.url(), /pt=graph/);
        const hostilePid = await page.evaluate(
          (name) =>
            [...document.querySelectorAll(".pt-node")]
              .find((n) => (n as HTMLElement).dataset.name === name)?.getAttribute("data-pid"),
          tree.hostileName,
        );
        assert.ok(hostilePid, "the hostile node");
        await page.click(`.pt-node[data-pid="${hostilePid}"]`);
        const detail = await page.textContent("#pt-detail") ?? "";
        assert.ok(detail.includes(`${tree.hostileName} (PID ${hostilePid})`), detail);
        assert.match(detail, new RegExp(`PPID ${tree.child.pid} • threads 1`));
        await shot(page, "proctree-graph");
      });

      await t.step("Find PID by name or command line lists matches as you type", async () => {
        await page.fill(".pt-find input", tag.toUpperCase()); // case-insensitive
        await page.waitForSelector("#pt-matches li");
        const items = await page.locator("#pt-matches li").allTextContents();
        // bash (its command line names both), the <script> one and the long one
        assert.equal(items.length, 3, items.join("\n"));
        const hostile = items.find((i) => i.includes(`• ${tree.hostileName}`))!;
        assert.match(hostile, /^\d+ • [^•]+ • thr=1 • <script>pt/);
        await page.click(`#pt-matches li a[data-pid="${tree.child.pid}"]`);
        await page.waitForFunction(
          (pid) => new URL(location.href).searchParams.get("pid") === String(pid),
          tree.child.pid,
        );
        await page.waitForSelector("svg.pt-graph");
      });

      await t.step(
        "Take snapshot, then Compare: the removed process and the thread changes",
        async () => {
          await page.click("button:has-text('Take snapshot')");
          await page.waitForSelector("#pt-compare:has-text('Snapshot of PID')");
          Deno.kill(tree.kids[0]!, "SIGKILL");
          await new Promise((r) => setTimeout(r, 300));
          await page.click("button:has-text('Compare to snapshot')");
          await page.waitForSelector(".pt-diff");
          const diff = await page.textContent(".pt-diff") ?? "";
          assert.match(diff, new RegExp(`Removed \\(1\\): sleep\\(${tree.kids[0]}\\)`));
          assert.match(diff, /Added \(0\): none/);
        },
      );

      await t.step("a PID that cannot be seen says why", async () => {
        await page.goto(`${s.url}?tab=proctree&pid=4000000`);
        await page.waitForSelector(".proctree .problem");
        assert.match(await page.textContent(".proctree .problem") ?? "", /no process 4000000/);
      });

      await t.step("hostile names stay inert and the layout holds", async () => {
        await page.goto(`${s.url}?tab=proctree&pid=${tree.child.pid}&pt=graph`);
        await page.fill(".pt-find input", tag);
        await page.waitForSelector("#pt-matches li");
        assert.equal(await pwned(page), undefined);
        assert.equal(
          await page.locator("#view script:not([type='application/json'])").count(),
          0,
        );
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth - document.documentElement.clientWidth
        );
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
        await shot(page, "proctree-hostile");
      });

      assert.deepEqual(relevant(problems), [], "no errors, CSP violations or outside requests");
    } finally {
      tree.child.kill("SIGTERM");
      for (const k of tree.kids) {
        try {
          Deno.kill(k, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await tree.child.status;
      await browser.close();
      await stop(s);
    }
  },
});
