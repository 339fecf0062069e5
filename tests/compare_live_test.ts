// Traces compared while they change (issue 15, part 2): a directory that gains a trace while
// serve runs shows it beside the others, a trace's new files join it, and Start while
// comparing traces this machine into a new file that joins the comparison.
import assert from "node:assert/strict";
import { get, noStackTrace, startServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";

const T0 = Date.UTC(2026, 4, 12, 9, 0, 0);

interface Listed {
  index: number;
  host?: string;
  rows?: number;
  path: string;
}

/** The traces serve lists, once `ok` holds of them (at most `ms`). */
async function tracesWhen(url: string, ok: (t: Listed[]) => boolean, ms = 20_000) {
  const until = Date.now() + ms;
  let traces: Listed[] = [];
  while (Date.now() < until) {
    traces = JSON.parse((await get(`${url}api/traces`)).text);
    if (ok(traces)) return traces;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`the traces did not become as expected: ${JSON.stringify(traces)}`);
}

Deno.test("a directory that gains a trace while serve runs shows it beside the first", async () => {
  const dir = tempDir();
  const idA = writeTrace(`${dir}/a.parquet`, "host-alpha", T0, { n: 30 });
  const s = await startServe([dir, "--port", "0"]);
  try {
    // One trace: the page as it always was, no comparison.
    const one = await get(`${s.url}tab/overview?range=all`);
    assert.equal(one.status, 200);
    assert.doesNotMatch(one.text, /aria-label="Traces compared"/);
    const before = await get(`${s.url}api/traces`);
    assert.equal(JSON.parse(before.text).length, 1);
    // The panel's poll, which names the traces it shows (set=).
    const poll = /id="panel"[^>]*hx-get="([^"]+)"/.exec(one.text)?.[1]?.replaceAll("&amp;", "&");
    assert.ok(poll?.includes("set="), one.text.slice(0, 2000));

    writeTrace(`${dir}/b.parquet`, "host-beta", T0 + 500, { n: 30 });
    const two = await tracesWhen(s.url, (t) => t.length === 2);
    // Polled now, it asks the page for the whole view: the bar of traces is new.
    const polled = await fetch(`${s.url}${poll!.replace(/^\//, "")}`);
    await polled.body?.cancel();
    assert.equal(polled.status, 204);
    assert.equal(polled.headers.get("HX-Trigger"), "sysmon-refresh");
    assert.deepEqual(two.map((t) => t.host), ["host-alpha", "host-beta"]);
    const page = await get(`${s.url}tab/overview?range=all`);
    assert.equal(page.status, 200);
    noStackTrace(page.text);
    assert.match(page.text, /aria-label="Traces compared"/);
    assert.match(page.text, /CPU · host-alpha/);
    assert.match(page.text, /CPU · host-beta/);

    // Trace A's next file (the same trace id) joins trace A, which keeps its index.
    writeTrace(`${dir}/a_later.parquet`, "host-alpha", T0 + 30_000, { n: 30, id: idA });
    const grown = await tracesWhen(s.url, (t) => t.find((x) => x.index === 0)?.rows === 60);
    assert.equal(grown.length, 2);
    assert.equal(grown.find((t) => t.index === 1)?.host, "host-beta");
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

Deno.test("Start while comparing traces this machine into a new file shown beside the traces", async () => {
  const dir = tempDir();
  const a = `${dir}/a.parquet`, b = `${dir}/b.parquet`;
  writeTrace(a, "host-alpha", T0);
  writeTrace(b, "host-beta", T0 + 300);
  const s = await startServe([a, b, "--port", "0"], { cwd: dir });
  const host = Deno.hostname();
  try {
    // Start is pre-filled with a new file: never one of the traces compared.
    const side = await get(`${s.url}ui/trace`);
    assert.equal(side.status, 200, side.text);
    assert.match(side.text, /value="a_sysmon\.parquet"/);
    const start = await fetch(`${s.url}api/trace/start`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ output: "a_sysmon.parquet", sampleInterval: 0.2, writeInterval: 1 }),
    });
    assert.equal(start.status, 200, await start.text());
    const three = await tracesWhen(s.url, (t) => t.length === 3 && (t[2]?.rows ?? 0) >= 3);
    assert.equal(three[2]!.host, host);
    assert.equal(three[2]!.path, `${dir}/a_sysmon.parquet`);
    // The page draws it beside the others, and looks again as often as it is written.
    const page = await get(`${s.url}tab/overview?range=all`);
    assert.match(page.text, new RegExp(`CPU · ${host.replace(/[.]/g, "\\.")}`));
    assert.match(page.text, /CPU · host-alpha/);
    assert.match(page.text, /hx-trigger="every 1s"/);
    const stop = await fetch(`${s.url}api/trace/stop`, { method: "POST" });
    assert.equal(stop.status, 200, await stop.text());
    // Stopped: still a trace of the comparison, the recorded ones untouched.
    const after = await tracesWhen(s.url, (t) => t.length === 3);
    assert.deepEqual(after.map((t) => t.host), ["host-alpha", "host-beta", host]);
    assert.deepEqual(after.slice(0, 2).map((t) => t.rows), [60, 60]);
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});
