import assert from "node:assert/strict";
import { Hono } from "hono";
import { LiveSession } from "../src/live/session.ts";
import { liveApi } from "../src/server/routes/live_api.ts";
import { authConfig, secure } from "../src/server/security.ts";
import { sysmon, tempDir } from "./helpers.ts";

const TOKEN = "event-cli-test-token-0123456789";

/** A real server on a free loopback port with the events routes. */
function serve(auth: { host: string; token?: string }) {
  const session = new LiveSession({ file: `${tempDir()}/trace.parquet` });
  const app = secure(new Hono(), authConfig(auth));
  app.route("/", liveApi(session));
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    app.fetch,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    session,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("sysmon event posts an event now, or --at a zoned or local time", async () => {
  await using s = serve({ host: "127.0.0.1" });
  let r = await sysmon(["event", "deploy started", "--url", s.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /event 'deploy started' at \d{4}-\d\d-\d\dT/);
  const [now] = s.session.events.list();
  assert.equal(now!.name, "deploy started");
  assert.ok(Math.abs(now!.at - Date.now()) < 30_000);

  r = await sysmon(["event", "zoned", "--at", "2024-05-01T12:00:00+02:00", "--url", `${s.url}/`]);
  assert.equal(r.code, 0, r.stderr);
  // A time without a zone is the CLI's local time (here: Denver, UTC-6 in May).
  r = await sysmon(["event", "naive", "--at", "2024-05-01 12:00", "--url", s.url], {
    env: { TZ: "America/Denver" },
  });
  assert.equal(r.code, 0, r.stderr);
  const byName = new Map(s.session.events.list().map((e) => [e.name, e.at]));
  assert.equal(byName.get("zoned"), Date.parse("2024-05-01T10:00:00Z"));
  assert.equal(byName.get("naive"), Date.parse("2024-05-01T18:00:00Z"));
});

Deno.test("sysmon event --at takes epoch milliseconds, and refuses epoch seconds", async () => {
  await using s = serve({ host: "127.0.0.1" });
  let r = await sysmon(["event", "deploy", "--at", "1764950000000", "--url", s.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /event 'deploy' at 2025-12-05T15:53:20\.000Z/);
  assert.deepEqual(s.session.events.list().map((e) => [e.name, e.at]), [
    ["deploy", 1764950000000],
  ]);
  r = await sysmon(["event", "deploy", "--at", "1764950000", "--url", s.url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--at: 1764950000 is too small for epoch milliseconds/);
});

Deno.test("sysmon event says what is wrong: a bad time, no server, no token", async () => {
  await using s = serve({ host: "0.0.0.0", token: TOKEN });
  let r = await sysmon(["event", "x", "--at", "next tuesday", "--url", s.url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--at: 'next tuesday' is not a date and time/);

  r = await sysmon(["event", "x", "--url", s.url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /needs a token \(401\): pass --token or set SYSMON_TOKEN/);
  r = await sysmon(["event", "x", "--url", s.url, "--token", "wrong-token-wrong-token"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused the token/);
  r = await sysmon(["event", "with flag", "--url", s.url, "--token", TOKEN]);
  assert.equal(r.code, 0, r.stderr);
  r = await sysmon(["event", "with env", "--url", s.url], { env: { SYSMON_TOKEN: TOKEN } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(s.session.events.list().map((e) => e.name).sort(), ["with env", "with flag"]);

  // A port nothing listens on.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  r = await sysmon(["event", "x", "--url", `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused\. Is `sysmon serve` running/,
  );
  r = await sysmon(["event", "x", "--url", "ftp://host"]);
  assert.equal(r.code, 2);
});
