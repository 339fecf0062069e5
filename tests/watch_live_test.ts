// Watch points that alert, end to end: a real `sysmon serve` tracing this machine live, a
// watch point `{"cpu": 30, "for": 3, "webhook": URL}` set through the API, a CPU made busy by a
// busy loop, and a real HTTP receiver on 127.0.0.1 that gets the JSON. A webhook on a closed
// port gives exactly one notice (on stderr and in the API) however many firings fail.
import assert from "node:assert/strict";
import { startLiveServe } from "./fault_kit.ts";
import { tempDir, waitFor } from "./helpers.ts";

/** A busy loop on one CPU for at most `seconds` (killed sooner by the test). */
function busyCpu(seconds: number): Deno.ChildProcess {
  return new Deno.Command("timeout", {
    args: [String(seconds), "sh", "-c", "while :; do :; done"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function endBusy(p: Deno.ChildProcess) {
  try {
    // SIGTERM, which `timeout` passes on to its loop: SIGKILL would end `timeout` alone and
    // leave the loop spinning, a core lost for the rest of the suite (it did in CI).
    p.kill("SIGTERM");
  } catch (err) {
    if (!(err instanceof TypeError)) throw err; // already exited
  }
  await p.status;
}

function receiver() {
  const got: Record<string, unknown>[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      got.push(await req.json());
      return new Response("ok");
    },
  );
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, got, server };
}

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });

Deno.test({
  name: 'sysmon serve: {"cpu": 30, "for": 3, "webhook": URL} posts JSON to URL while a CPU is busy',
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const hook = receiver();
    const serve = await startLiveServe(dir);
    let busy: Deno.ChildProcess | null = null;
    let stopped: Awaited<ReturnType<typeof serve.stop>> | null = null;
    try {
      const set = await post(`${serve.url}api/watch`, { cpu: 30, for: 3, webhook: hook.url });
      assert.equal(set.status, 200, await set.clone().text());
      assert.deepEqual(await set.json(), {
        thresholds: { cpu: 30 },
        for: 3,
        webhook: hook.url,
      });
      const setAt = Date.now();
      busy = busyCpu(30);
      await waitFor(() => hook.got.length > 0, 25_000, "the webhook to be called");
      const body = hook.got[0]!;
      assert.deepEqual(Object.keys(body).sort(), [
        "at",
        "host",
        "metric",
        "name",
        "threshold",
        "value",
      ]);
      assert.equal(body.metric, "cpu");
      assert.equal(body.threshold, 30);
      assert.ok((body.value as number) > 30, `value ${body.value}`);
      assert.match(body.name as string, /^CPU% > 30 \(now \d+\.\d\)$/);
      assert.equal(body.host, Deno.hostname());
      assert.match(body.at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const at = Date.parse(body.at as string);
      assert.ok(Math.abs(at - Date.now()) < 30_000, `at ${body.at}`);
      // one automatic event for the firing, starting at least `for` seconds before it fired
      const { events } = await (await fetch(`${serve.url}api/events`)).json();
      const auto = events.filter((e: { kind: string }) => e.kind === "auto");
      assert.equal(auto.length, 1, JSON.stringify(events));
      assert.equal(auto[0].name, body.name);
      assert.ok(at - auto[0].at >= 3000, `started ${at - auto[0].at} ms before it fired`);
      assert.ok(auto[0].at >= setAt - 1000);
      await endBusy(busy);
      busy = null;
      assert.equal(hook.got.length, 1, "one post per firing");

      // A webhook nobody listens on: two firings fail, one notice.
      const closed = `http://127.0.0.1:${closedPort()}/hook`;
      busy = busyCpu(30);
      for (const cpu of [0, 0.01]) {
        // a changed threshold re-arms: CPU% > 0 fires at once with `for` 0
        const r = await post(`${serve.url}api/watch`, { cpu, for: 0, webhook: closed });
        assert.equal(r.status, 200);
        const failed = async () => (await (await fetch(`${serve.url}api/watch`)).json());
        const before = (await failed()).delivery.failed;
        const until = Date.now() + 20_000;
        while ((await failed()).delivery.failed <= before) {
          assert.ok(Date.now() < until, "the post to a closed port never failed");
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const w = await (await fetch(`${serve.url}api/watch`)).json();
      assert.equal(w.delivery.notices, 1);
      assert.ok(w.delivery.failed >= 2, JSON.stringify(w.delivery));
      assert.match(w.notice, new RegExp(`^webhook ${closed}: `));
      const status = await (await fetch(`${serve.url}api/trace/status`)).json();
      assert.ok(status.notices.includes(w.notice), JSON.stringify(status.notices));
      await endBusy(busy);
      busy = null;
      stopped = await serve.stop();
      const lines = stopped.stderr.split("\n").filter((l) => l.includes("webhook"));
      assert.equal(lines.length, 1, stopped.stderr);
    } finally {
      if (busy) await endBusy(busy);
      if (!stopped) await serve.stop();
      await hook.server.shutdown();
    }
  },
});
