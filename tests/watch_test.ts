// Watch points that alert: a firing needs its condition to hold `for` seconds and re-arms only
// after it has been clear as long (a fake clock: the samples' own times); one automatic event
// per firing, with its start and end; the webhook (a real receiver on 127.0.0.1): the JSON it
// gets, a timeout, one retry, one notice while it fails, no redirect followed; POST /api/watch
// and the sidebar form take `for` and `webhook` and refuse what is not an http(s) URL.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { LiveSession } from "../src/live/session.ts";
import { type LiveRow, LiveTracer } from "../src/live/tracer.ts";
import { DEFAULT_FOR_S, type WatchChange, WatchEvaluator } from "../src/live/watch.ts";
import { type WebhookBody, WebhookNotifier } from "../src/live/webhook.ts";
import { createApp } from "../src/server/app.ts";
import { onError } from "../src/server/errors.ts";
import { liveApi } from "../src/server/routes/live_api.ts";
import { tempDir } from "./helpers.ts";

const S = 1000;

/** `cpu` per second from t = 0: the changes, as [kind, start s, fired or ended s]. */
function run(w: WatchEvaluator, cpu: (number | null)[], stepMs = S) {
  return cpu.flatMap((v, i) => w.evaluate({ cpu_busy_percent: v }, i * stepMs)).map(brief);
}
const brief = (c: WatchChange) =>
  [c.kind, c.start / S, (c.kind === "fire" ? c.at : c.end) / S] as const;

Deno.test("WatchEvaluator fires only once the value has been above for `for` seconds", () => {
  const w = new WatchEvaluator({ cpu: 30 }, 3);
  // above 0-2 s: not yet; above at 3 s (held 3 s): fires, the firing starting at 0 s
  assert.deepEqual(run(w, [50, 50, 50, 50, 50]), [["fire", 0, 3]]);
  // blips shorter than `for` never fire
  const b = new WatchEvaluator({ cpu: 30 }, 3);
  assert.deepEqual(run(b, [50, 50, 10, 50, 50, 10, 50, 10, 50, 50, 50, 10]), []);
  // samples 5 s apart: the second sample above has held 5 s ≥ 3
  const sparse = new WatchEvaluator({ cpu: 30 }, 3);
  assert.deepEqual(run(sparse, [10, 50, 50, 50], 5 * S), [["fire", 5, 10]]);
  // a missing value changes nothing; time going back (another trace) counts again
  const gap = new WatchEvaluator({ cpu: 30 }, 3);
  assert.deepEqual(gap.evaluate({ cpu_busy_percent: 50 }, 10 * S), []);
  assert.deepEqual(gap.evaluate({ cpu_busy_percent: null }, 12 * S), []);
  assert.deepEqual(gap.evaluate({ cpu_busy_percent: 50 }, 2 * S), []);
  assert.deepEqual(gap.evaluate({ cpu_busy_percent: 50 }, 4 * S), []);
  assert.deepEqual(gap.evaluate({ cpu_busy_percent: 50 }, 5 * S).map(brief), [["fire", 2, 5]]);
});

Deno.test("WatchEvaluator re-arms only after the value has been clear for `for` seconds", () => {
  const w = new WatchEvaluator({ cpu: 30 }, 3);
  const cpu = [
    ...[50, 50, 50, 50], // 0-3: fires at 3
    ...[10, 50], // 4: clear, 5: above again before 3 s clear: still the same firing
    ...[10, 10, 10, 10], // 6-9: clear from 6, held 3 s at 9: ends at 6
    ...[50, 50, 50, 50], // 10-13: fires again at 13
  ];
  assert.deepEqual(run(w, cpu), [["fire", 0, 3], ["clear", 0, 6], ["fire", 10, 13]]);
  // reset (tracing stopped): what fires ends at the last sample seen
  assert.deepEqual(w.reset().map(brief), [["clear", 10, 13]]);
});

Deno.test("a value hovering at the threshold for 20 minutes: a stream with `for` 0, one firing by default", () => {
  // CPU around 20% for 20 minutes, sampled every second: above for 2 s, below for 20 s,
  // then a sustained minute above it from 10:00.
  const cpu = Array.from({ length: 20 * 60 }, (_, i) => {
    if (i >= 600 && i < 660) return 60;
    return i % 22 < 2 ? 25 : 15;
  });
  const stream = new WatchEvaluator({ cpu: 20 }, 0);
  const storm = run(stream, cpu).filter((c) => c[0] === "fire");
  assert.ok(storm.length > 50, `${storm.length} firings with for 0`);
  const calm = new WatchEvaluator({ cpu: 20 }); // the default `for`
  assert.equal(calm.forSeconds, DEFAULT_FOR_S);
  // fires 10 s into the minute; clear from 662 s (a blip at 660-661 s), for 10 s: ends at 662
  assert.deepEqual(run(calm, cpu), [["fire", 600, 610], ["clear", 600, 662]]);
});

/** A tracer whose rows the test pushes (the session listens to it as to the real one). */
class FakeTracer extends LiveTracer {
  private fns = new Set<(r: LiveRow) => void>();
  override subscribe(fn: (r: LiveRow) => void) {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  push(at: number, cpu: number) {
    const r = { at, row: { cpu_busy_percent: cpu }, sample: 0, lateMs: 0, dueMs: 0 };
    for (const fn of this.fns) fn(r as LiveRow);
  }
}

/** An HTTP receiver on 127.0.0.1 that keeps what it is sent; `answer` decides the reply. */
function receiver(
  answer: (req: Request, n: number) => Response | Promise<Response> = () => new Response("ok"),
) {
  const got: { body: WebhookBody; headers: Headers; url: string }[] = [];
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const text = await req.text();
    got.push({ body: JSON.parse(text || "null"), headers: req.headers, url: req.url });
    return answer(req, n++);
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, got, server };
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "a firing is one automatic event with its start and end, posted once as JSON",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const tracer = new FakeTracer();
    const hook = receiver();
    const session = new LiveSession({ file: `${dir}/t.parquet`, tracer });
    try {
      session.setWatch({ thresholds: { cpu: 30 }, forSeconds: 3, webhook: hook.url });
      const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);
      const cpu = [50, 50, 50, 50, 51, 52, 10, 10, 10, 10, 10];
      cpu.forEach((v, i) => tracer.push(t0 + i * S, v));
      const events = session.events.list();
      assert.equal(events.length, 1, JSON.stringify(events));
      assert.equal(events[0]!.kind, "auto");
      assert.equal(events[0]!.name, "CPU% > 30 (now 50.0)");
      assert.equal(events[0]!.at, t0);
      assert.equal(events[0]!.end, t0 + 6 * S);
      assert.equal(
        Deno.readTextFileSync(`${dir}/t.parquet.events.csv`),
        "event,timestamp,kind,end\n" +
          "CPU% > 30 (now 50.0),2024-05-01T12:00:00.000Z,auto,2024-05-01T12:00:06.000Z\n",
      );
      await session.webhook.idle();
      assert.equal(hook.got.length, 1);
      assert.deepEqual(hook.got[0]!.body, {
        name: "CPU% > 30 (now 50.0)",
        metric: "cpu",
        value: 50,
        threshold: 30,
        at: "2024-05-01T12:00:03.000Z",
        host: Deno.hostname(),
      });
      assert.equal(hook.got[0]!.headers.get("content-type"), "application/json");
      assert.equal(hook.got[0]!.headers.get("cookie"), null);
      assert.equal(hook.got[0]!.headers.get("authorization"), null);
    } finally {
      await session.close();
      await hook.server.shutdown();
    }
  },
});

Deno.test({
  name: "a webhook that fails gives one notice until a post gets through, then one again",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const said: string[] = [];
    const n = new WebhookNotifier({ retryDelayMs: 20, onNotice: (m) => said.push(m) });
    const closed = `http://127.0.0.1:${closedPort()}/hook`;
    const body = (name: string): WebhookBody => ({
      name,
      metric: "cpu",
      value: 50,
      threshold: 30,
      at: new Date().toISOString(),
      host: "h",
    });
    for (let i = 0; i < 4; i++) n.send(closed, body(`f${i}`));
    await n.idle();
    assert.equal(n.failed, 4);
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(said[0]!, /^webhook http:\/\/127\.0\.0\.1:\d+\/hook: .*tried twice/);
    assert.equal(n.notice, said[0]);
    // one that answers: the notice goes; a failure after that is said again, once
    const hook = receiver();
    try {
      n.send(hook.url, body("ok"));
      await n.idle();
      assert.equal(n.notice, null);
      assert.equal(n.sent, 1);
      n.send(closed, body("again"));
      n.send(closed, body("again 2"));
      await n.idle();
      assert.equal(said.length, 2);
      assert.equal(n.notices, 2);
    } finally {
      await hook.server.shutdown();
    }
  },
});

Deno.test({
  name: "a webhook post is retried once, times out, and never follows a redirect",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const said: string[] = [];
    const n = new WebhookNotifier({
      retryDelayMs: 20,
      timeoutMs: 300,
      onNotice: (m) => said.push(m),
    });
    const body: WebhookBody = {
      name: "x",
      metric: "cpu",
      value: 1,
      threshold: 0,
      at: new Date().toISOString(),
      host: "h",
    };
    // the first attempt answers 500, the retry 200: delivered, nothing said
    const flaky = receiver((_, i) => new Response("", { status: i === 0 ? 500 : 200 }));
    // a redirect (to another scheme, and to another path): a failure, not followed
    const redirect = receiver((req) =>
      new URL(req.url).pathname === "/elsewhere"
        ? new Response("ok")
        : new Response("", { status: 302, headers: { Location: "/elsewhere" } })
    );
    // no answer at all: the timeout
    const hung = receiver(() =>
      new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 1500))
    );
    try {
      n.send(flaky.url, body);
      await n.idle();
      assert.equal(flaky.got.length, 2);
      assert.equal(n.sent, 1);
      assert.deepEqual(said, []);
      n.send(redirect.url, body);
      await n.idle();
      assert.deepEqual(redirect.got.map((g) => new URL(g.url).pathname), ["/hook", "/hook"]);
      assert.equal(said.length, 1);
      assert.match(said[0]!, /302, a redirect \(not followed\)/);
      n.forget();
      const t = Date.now();
      n.send(hung.url, body);
      n.send(hung.url, body);
      n.send(hung.url, body); // waits behind the others: never blocks send()
      assert.ok(Date.now() - t < 50);
      n.close(); // what waits is dropped, the post under way aborted
      await n.idle();
      const m = new WebhookNotifier({ retryDelayMs: 20, timeoutMs: 200, onNotice: () => {} });
      m.send(hung.url, body);
      await m.idle();
      assert.match(m.notice ?? "", /no answer within 0\.2 s/);
      // a full queue drops its oldest post
      const q = new WebhookNotifier({ timeoutMs: 200, retryDelayMs: 10, maxQueue: 2 });
      for (let i = 0; i < 5; i++) q.send(hung.url, body);
      assert.equal(q.dropped, 2);
      q.close();
      await q.idle();
    } finally {
      for (const r of [flaky, redirect, hung]) await r.server.shutdown();
    }
  },
});

const json = (body: unknown) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("POST /api/watch takes `for` and `webhook`, keeps them, and refuses other URLs", async () => {
  const dir = tempDir();
  const session = new LiveSession({ file: `${dir}/t.parquet` });
  const app = new Hono().onError(onError).route("/", liveApi(session));
  try {
    const hook = "http://127.0.0.1:9000/hook";
    let r = await app.request("/api/watch", json({ cpu: 30, for: 3, webhook: hook }));
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { thresholds: { cpu: 30 }, for: 3, webhook: hook });
    const saved = JSON.parse(Deno.readTextFileSync(`${dir}/.sysmon-watch.json`));
    assert.deepEqual(saved, { thresholds: { cpu: 30 }, for: 3, webhook: hook });
    // kept across sessions
    const again = new LiveSession({ file: `${dir}/t.parquet` });
    assert.deepEqual(again.watchSettings, {
      thresholds: { cpu: 30 },
      forSeconds: 3,
      webhook: hook,
    });
    await again.close();
    const got = await (await app.request("/api/watch")).json();
    assert.equal(got.for, 3);
    assert.equal(got.webhook, hook);
    assert.equal(got.notice, null);
    assert.deepEqual(got.delivery, { sent: 0, failed: 0, dropped: 0, notices: 0 });
    // no `for`: the default; https is taken
    r = await app.request("/api/watch", json({ cpu: 30, webhook: "https://example.com/h?a=1" }));
    assert.deepEqual(await r.json(), {
      thresholds: { cpu: 30 },
      for: DEFAULT_FOR_S,
      webhook: "https://example.com/h?a=1",
    });
    const refused: [unknown, RegExp][] = [
      [
        { cpu: 30, webhook: "ftp://example.com/x" },
        /must be an http:\/\/ or https:\/\/ URL, not ftp:/,
      ],
      [{ cpu: 30, webhook: "javascript:alert(1)" }, /not javascript:/],
      [{ cpu: 30, webhook: "not a url" }, /'webhook' is not a URL: 'not a url'/],
      [{ cpu: 30, webhook: "127.0.0.1:9000/hook" }, /is not a URL/],
      [{ cpu: 30, webhook: "localhost:9000/hook" }, /not localhost:/],
      [{ cpu: 30, webhook: "file:///etc/passwd" }, /not file:/],
      [{ cpu: 30, webhook: "http://user:pw@127.0.0.1/h" }, /user name or password/],
      [{ cpu: 30, webhook: 5 }, /'webhook' must be a URL/],
      [{ cpu: 30, for: -1 }, /'for' must be a number of seconds from 0 to 86400, not -1/],
      [{ cpu: 30, for: "soon" }, /not 'soon'/],
      [{ cpu: 30, for: 1e9 }, /from 0 to 86400/],
    ];
    for (const [body, why] of refused) {
      r = await app.request("/api/watch", json(body));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match((await r.json()).error, why);
    }
    // nothing refused was kept
    assert.deepEqual(session.watchSettings.webhook, "https://example.com/h?a=1");
  } finally {
    await session.close();
  }
});

Deno.test("the sidebar's watch form takes For and Webhook, and says why it refuses one", async () => {
  const dir = tempDir();
  const session = new LiveSession({ file: `${dir}/t.parquet` });
  const app = createApp({ session, refreshMs: 60_000 });
  const post = async (fields: Record<string, string>) => {
    const res = await app.request("/ui/watch", {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: { "Sec-Fetch-Site": "same-origin", Origin: "http://localhost" },
    });
    return { status: res.status, text: await res.text() };
  };
  try {
    let r = await post({ cpu: "30", for: "3", webhook: "http://127.0.0.1:9000/hook" });
    assert.equal(r.status, 200);
    assert.match(r.text, /Watching CPU % &gt; 30\. Each fires after 3 s above/);
    assert.match(r.text, /posted to http:\/\/127\.0\.0\.1:9000\/hook/);
    assert.match(r.text, /name="for"[^>]*value="3"/);
    assert.match(r.text, /name="webhook"[^>]*value="http:\/\/127\.0\.0\.1:9000\/hook"/);
    r = await post({ cpu: "30", for: "", webhook: "" });
    assert.match(r.text, new RegExp(`name="for"[^>]*value="${DEFAULT_FOR_S}"`));
    assert.deepEqual(session.watchSettings.webhook, null);
    r = await post({ cpu: "30", for: "3", webhook: "javascript:alert(1)" });
    assert.equal(r.status, 400);
    assert.match(r.text, /must be an http:\/\/ or https:\/\/ URL, not javascript:/);
    r = await post({ cpu: "30", for: "-2" });
    assert.equal(r.status, 400);
    assert.match(r.text, /&#39;for&#39; must be a number of seconds/);
  } finally {
    await app.close();
    await session.close();
  }
});
