/// <reference lib="dom" />
// Watch points that alert, in a real browser (Debian's Chromium, driven by playwright-core):
// tracing started from the page, the watch form filled with a threshold, For and a webhook,
// a CPU made busy, and a real HTTP receiver on 127.0.0.1 that gets the firing as JSON; a
// webhook that is not http(s) is refused in the form with the reason.
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import { LiveSession } from "../src/live/session.ts";
import { tempDir, waitFor } from "./helpers.ts";
import { ARTIFACTS, chromiumFor, launchChromium } from "./browser_kit.ts";

const haveChromium = chromiumFor("browser_watch_test");

/** Ends the busy loop (it may have exited already, its `timeout` run out). */
function endBusy(p: Deno.ChildProcess) {
  try {
    // SIGTERM, which `timeout` passes on to its loop: SIGKILL would end `timeout` alone and
    // leave the loop spinning, a core lost for the rest of the suite (it did in CI).
    p.kill("SIGTERM");
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
}

Deno.test({
  name: "the watch form in Chromium: a threshold, For and a webhook; the receiver gets the firing",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const dir = tempDir();
    const session = new LiveSession({
      file: `${dir}/live.parquet`,
      defaults: { sampleInterval: 0.5, writeInterval: 1, enableGpu: false, enableDocker: false },
    });
    const app = createApp({ session, refreshMs: 60_000 });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
    const url = `http://127.0.0.1:${server.addr.port}/`;
    const got: Record<string, unknown>[] = [];
    const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      got.push(await req.json());
      return new Response("ok");
    });
    const hookUrl = `http://127.0.0.1:${hook.addr.port}/hook`;
    const busy = new Deno.Command("timeout", {
      args: ["60", "sh", "-c", "while :; do :; done"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    try {
      await t.step("tracing starts from the page", async () => {
        await page.goto(url);
        await page.click("#tracing button[type=submit]");
        await page.waitForSelector("#trace-status[data-state=running]", { timeout: 20_000 });
      });

      await t.step("a webhook that is not http(s) is refused with the reason", async () => {
        await page.fill("#watch input[name=cpu]", "30");
        await page.fill("#watch input[name=webhook]", "ftp://example.com/hook");
        await page.click("#watch button[type=submit]");
        await page.waitForSelector("#watch .error:has-text('must be an http:// or https:// URL')");
        assert.equal(session.watchSettings.webhook, null);
      });

      await t.step("CPU% > 30 for 2 s with the webhook: the receiver gets the JSON", async () => {
        await page.fill("#watch input[name=cpu]", "30");
        await page.fill("#watch input[name=for]", "2");
        await page.fill("#watch input[name=webhook]", hookUrl);
        await page.click("#watch button[type=submit]");
        await page.waitForSelector(`#watch .ok:has-text('posted to ${hookUrl}')`);
        await waitFor(() => got.length > 0, 25_000, "the webhook to be called");
        const body = got[0]!;
        assert.equal(body.metric, "cpu");
        assert.equal(body.threshold, 30);
        assert.ok((body.value as number) > 30);
        assert.equal(body.host, Deno.hostname());
        assert.match(body.name as string, /^CPU% > 30 \(now \d+\.\d\)$/);
        assert.ok(!Number.isNaN(Date.parse(body.at as string)));
        // the firing is one automatic event in the list
        await page.waitForSelector("#events-list .event.auto", { timeout: 10_000 });
        assert.equal(
          await page.textContent("#events-list .event.auto .event-name"),
          body.name,
        );
        Deno.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS}watch-webhook.png`, fullPage: true });
      });

      // No errors but the refused form's 400, and htmx's lines for a poll aborted by a swap.
      const benign = /status of 400 \(Bad Request\)|^htmx:(sendAbort|afterRequest), /;
      assert.deepEqual(problems.filter((p) => !benign.test(p)), []);

      await t.step("the form shows For and the webhook after a reload", async () => {
        await page.reload();
        assert.equal(await page.inputValue("#watch input[name=for]"), "2");
        assert.equal(await page.inputValue("#watch input[name=webhook]"), hookUrl);
      });
    } finally {
      endBusy(busy);
      await busy.status;
      await browser.close();
      await server.shutdown();
      await app.close();
      await session.close();
      await hook.shutdown();
    }
  },
});
