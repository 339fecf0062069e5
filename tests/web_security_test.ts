import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  authConfig,
  clientOf,
  generateToken,
  type GuessLimits,
  isLoopbackHost,
  secure,
  TokenGuesses,
  urlWithToken,
} from "../src/server/security.ts";
import { Refusal } from "../src/schema/refusal.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const TOKEN_COOKIE = "sysmon_token_8050"; // one cookie per port: two servers on a host differ

function app(host: string, token?: string) {
  const a = secure(new Hono(), authConfig({ host, token }));
  a.get("/", (c) => c.html("<p>dashboard</p>"));
  a.get("/api/thing", (c) => c.json({ ok: true }));
  a.post("/api/thing", (c) => c.json({ changed: true }));
  a.get("/boom", () => {
    throw new Error("secret detail in /home/user/file.ts");
  });
  a.get("/refused", () => {
    throw new Refusal("conflict", "already tracing");
  });
  return a;
}

Deno.test("isLoopbackHost() knows loopback names and addresses", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "app.localhost"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of ["0.0.0.0", "::", "192.168.1.5", "example.com", "127.0.0.1.evil.com"]) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

Deno.test("authConfig() requires a token exactly when the host is not loopback", () => {
  assert.equal(authConfig({ host: "127.0.0.1" }).token, null);
  const open = authConfig({ host: "0.0.0.0" });
  assert.ok(open.token !== null && open.token.length >= 40, "a generated token");
  assert.notEqual(open.token, authConfig({ host: "0.0.0.0" }).token);
  assert.equal(authConfig({ host: "0.0.0.0", token: TOKEN }).token, TOKEN);
  assert.equal(authConfig({ host: "10.0.0.2", env: TOKEN }).token, TOKEN);
  assert.equal(authConfig({ host: "127.0.0.1", token: TOKEN }).token, TOKEN, "asked for: kept");
  const none = authConfig({ host: "0.0.0.0", noAuth: true });
  assert.equal(none.token, null);
  assert.match(none.warning!, /--no-auth/);
  assert.throws(() => authConfig({ host: "0.0.0.0", token: "short" }), /at least 16/);
  assert.equal(
    urlWithToken("http://host:8050/", TOKEN),
    `http://host:8050/?token=${TOKEN}`,
  );
  assert.match(generateToken(), /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("without the token every route answers 401, JSON or a page, with no details", async () => {
  const a = app("0.0.0.0", TOKEN);
  const api = await a.request("http://10.0.0.2:8050/api/thing");
  assert.equal(api.status, 401);
  assert.match(api.headers.get("www-authenticate")!, /Bearer/);
  assert.match((await api.json()).error, /needs its token/);
  const page = await a.request("http://10.0.0.2:8050/", { headers: { Accept: "text/html" } });
  assert.equal(page.status, 401);
  assert.match(await page.text(), /Token needed/);
  const wrong = await a.request(`http://10.0.0.2:8050/api/thing?token=${TOKEN}x`);
  assert.equal(wrong.status, 401);
  const wrongCookie = await a.request("http://10.0.0.2:8050/api/thing", {
    headers: { Cookie: `${TOKEN_COOKIE}=nope` },
  });
  assert.equal(wrongCookie.status, 401);
  const wrongBearer = await a.request("http://10.0.0.2:8050/api/thing", {
    headers: { Authorization: "Bearer nope" },
  });
  assert.equal(wrongBearer.status, 401);
});

Deno.test("?token= sets an HttpOnly SameSite=Strict cookie and redirects without the token", async () => {
  const a = app("0.0.0.0", TOKEN);
  const first = await a.request(`http://10.0.0.2:8050/?tab=cpu&token=${TOKEN}`);
  assert.equal(first.status, 303);
  assert.equal(first.headers.get("location"), "/?tab=cpu");
  const cookie = first.headers.get("set-cookie")!;
  assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=${TOKEN};`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\//);
  const next = await a.request("http://10.0.0.2:8050/api/thing", {
    headers: { Cookie: `${TOKEN_COOKIE}=${TOKEN}` },
  });
  assert.equal(next.status, 200);
  const otherPort = await a.request("http://10.0.0.2:8050/api/thing", {
    headers: { Cookie: `sysmon_token_9000=${TOKEN}` },
  });
  assert.equal(otherPort.status, 401, "another server's cookie does not count here");
  const bearer = await a.request("http://10.0.0.2:8050/api/thing", {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  assert.deepEqual(await bearer.json(), { ok: true });
  // The token does not make a cross-site request acceptable.
  const cross = await a.request("http://10.0.0.2:8050/api/thing", {
    method: "POST",
    headers: { Cookie: `${TOKEN_COOKIE}=${TOKEN}`, Origin: "http://evil.example" },
  });
  assert.equal(cross.status, 403);
  const same = await a.request("http://10.0.0.2:8050/api/thing", {
    method: "POST",
    headers: { Cookie: `${TOKEN_COOKIE}=${TOKEN}`, Origin: "http://10.0.0.2:8050" },
  });
  assert.equal(same.status, 200);
});

Deno.test("on loopback no token is needed, but the Host must be a loopback name", async () => {
  const a = app("127.0.0.1");
  assert.equal((await a.request("http://127.0.0.1:8050/api/thing")).status, 200);
  assert.equal((await a.request("http://localhost:8050/api/thing")).status, 200);
  const rebound = await a.request("http://attacker.example:8050/api/thing");
  assert.equal(rebound.status, 421);
});

Deno.test("errors answer JSON without stack traces; only GET, HEAD, POST, DELETE", async () => {
  const a = app("127.0.0.1");
  const boom = await a.request("/boom");
  assert.equal(boom.status, 500);
  const text = await boom.text();
  assert.doesNotMatch(text, /secret|\.ts|at /);
  assert.equal(JSON.parse(text).error, "internal error (details are in the server's log)");
  const refused = await a.request("/refused");
  assert.equal(refused.status, 409);
  assert.deepEqual(await refused.json(), { error: "already tracing" });
  const missing = await a.request("/nope");
  assert.equal(missing.status, 404);
  for (const method of ["PUT", "PATCH", "OPTIONS"]) {
    const r = await a.request("/api/thing", { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get("allow"), "GET, HEAD, POST, DELETE");
  }
});

// ---------------------------------------------------------------- token guesses

/** What Deno.serve hands the app (Hono's c.env) for a TCP peer. */
const peer = (hostname: string) => ({ remoteAddr: { transport: "tcp", hostname, port: 40000 } });

/** An app that needs TOKEN, with a clock the test moves. */
function guarded(limits: GuessLimits = {}) {
  let now = 1_000_000;
  const guesses = new TokenGuesses({ now: () => now, ...limits });
  const a = secure(new Hono(), authConfig({ host: "0.0.0.0", token: TOKEN }), guesses);
  a.get("/api/thing", (c) => c.json({ ok: true }));
  const get = (ip: string, headers: Record<string, string> = {}) =>
    a.request("http://10.0.0.2:8050/api/thing", { headers }, peer(ip));
  const bearer = (ip: string, token: string) => get(ip, { Authorization: `Bearer ${token}` });
  return { get, bearer, guesses, later: (ms: number) => (now += ms) };
}

const WRONG = [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), "x", "wrong-token"];

Deno.test("after 5 wrong tokens from one address, its next try, even the right token, gets 429", async () => {
  const { bearer, later } = guarded();
  for (const w of WRONG) assert.equal((await bearer("10.0.0.7", w)).status, 401, w);
  const held = await bearer("10.0.0.7", TOKEN);
  assert.equal(held.status, 429);
  assert.equal(held.headers.get("retry-after"), "1");
  assert.match(
    (await held.json()).error,
    /^too many wrong tokens from 10\.0\.0\.7; try again in 1 s$/,
  );
  // Another client is not affected.
  assert.equal((await bearer("10.0.0.8", TOKEN)).status, 200);
  assert.equal((await bearer("10.0.0.8", "wrong-token")).status, 401);
  // After the wait the right token works, and that success starts the count over.
  later(1000);
  assert.equal((await bearer("10.0.0.7", TOKEN)).status, 200);
  for (const w of WRONG) assert.equal((await bearer("10.0.0.7", w)).status, 401, w);
  assert.equal((await bearer("10.0.0.7", TOKEN)).status, 429);
});

Deno.test("the wait doubles with each wrong token after the fifth, up to 60 s", async () => {
  const { bearer, later } = guarded();
  for (const w of WRONG) await bearer("10.0.0.7", w);
  const waits: string[] = [];
  for (let i = 0; i < 9; i++) {
    const r = await bearer("10.0.0.7", TOKEN);
    assert.equal(r.status, 429);
    const wait = r.headers.get("retry-after")!;
    waits.push(wait);
    // Tries while waiting are answered 429 and do not make the wait longer.
    later(500);
    const during = await bearer("10.0.0.7", `another-guess-${i}`);
    assert.equal(during.status, 429);
    assert.equal(during.headers.get("retry-after"), String(Math.ceil(Number(wait) - 0.5)));
    later(Number(wait) * 1000 - 500);
    assert.equal((await bearer("10.0.0.7", `guess-${i}`)).status, 401);
  }
  assert.deepEqual(waits, ["1", "2", "4", "8", "16", "32", "60", "60", "60"]);
});

Deno.test("a wrong token sent again and again counts once, and no token at all is not a guess", async () => {
  const { get, bearer } = guarded();
  // A browser tab that kept an old server's cookie, polling.
  for (let i = 0; i < 20; i++) {
    const r = await get("10.0.0.7", { Cookie: `${TOKEN_COOKIE}=old-token-of-a-restarted-server` });
    assert.equal(r.status, 401);
    assert.match((await r.json()).error, /the token sent is wrong/);
  }
  for (let i = 0; i < 20; i++) assert.equal((await get("10.0.0.7")).status, 401);
  assert.equal((await bearer("10.0.0.7", TOKEN)).status, 200);
});

Deno.test("the addresses kept are bounded: the least recent is forgotten first", async () => {
  const { bearer, guesses } = guarded({ maxTracked: 3 });
  for (const w of WRONG) await bearer("10.0.0.7", w);
  assert.equal((await bearer("10.0.0.7", TOKEN)).status, 429);
  for (const ip of ["10.0.1.1", "10.0.1.2", "10.0.1.3"]) await bearer(ip, "wrong-token");
  assert.equal(guesses.size, 3);
  assert.equal((await bearer("10.0.0.7", TOKEN)).status, 200, "forgotten");

  const flood = guarded({ maxTracked: 100 });
  for (let i = 0; i < 1000; i++) await flood.bearer(`10.1.${i >> 8}.${i & 255}`, "wrong-token");
  assert.equal(flood.guesses.size, 100);
});

Deno.test("clientOf() counts IPv4 by address and IPv6 by its /64", async () => {
  assert.equal(clientOf("10.0.0.7"), "10.0.0.7");
  assert.equal(clientOf("::ffff:10.0.0.7"), "10.0.0.7");
  assert.equal(clientOf("2001:db8:1:2::a"), "2001:db8:1:2::/64");
  assert.equal(clientOf("[2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd]"), "2001:db8:1:2::/64");
  assert.equal(clientOf("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(clientOf("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(clientOf("::1"), "0:0:0:0::/64");
  const { bearer } = guarded();
  for (const w of WRONG) await bearer("2001:db8:1:2::a", w);
  assert.equal((await bearer("2001:db8:1:2::b", TOKEN)).status, 429, "same /64");
  assert.equal((await bearer("2001:db8:1:3::a", TOKEN)).status, 200, "another /64");
});

Deno.test("a real server counts wrong tokens by the address of the connection", async () => {
  const guesses = new TokenGuesses({ now: () => 0 }); // the clock stands still: no flakes
  const a = secure(new Hono(), authConfig({ host: "0.0.0.0", token: TOKEN }), guesses);
  a.get("/api/thing", (c) => c.json({ ok: true }));
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    a.fetch,
  );
  try {
    const get = (token: string) =>
      fetch(`http://127.0.0.1:${server.addr.port}/api/thing`, {
        headers: { Authorization: `Bearer ${token}` },
      });
    for (const w of WRONG) {
      const r = await get(w);
      await r.body?.cancel();
      assert.equal(r.status, 401);
    }
    const held = await get(TOKEN);
    await held.body?.cancel();
    assert.equal(held.status, 429);
    assert.equal(held.headers.get("retry-after"), "1");
    assert.equal(guesses.waitMs("127.0.0.1"), 1000);
  } finally {
    ac.abort();
    await server.finished;
  }
});

// ---------------------------------------------------------------- cross-site

Deno.test("a POST whose Referer is another origin is refused (403), even with the token", async () => {
  const a = app("127.0.0.1");
  const post = (referer: string) =>
    a.request("http://127.0.0.1:8050/api/thing", { method: "POST", headers: { Referer: referer } });
  let r = await post("http://evil.example/page");
  assert.equal(r.status, 403);
  assert.equal(
    (await r.json()).error,
    "cross-site request refused (Referer http://evil.example/page is not from " +
      "http://127.0.0.1:8050)",
  );
  assert.equal((await post("http://127.0.0.1:9000/")).status, 403, "another port");
  assert.equal((await post("not a url")).status, 403);
  assert.equal((await post("http://127.0.0.1:8050/?tab=cpu")).status, 200);
  const withToken = app("0.0.0.0", TOKEN);
  r = await withToken.request("http://10.0.0.2:8050/api/thing", {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, Referer: "http://evil.example/" },
  });
  assert.equal(r.status, 403);
  // Reading is no harm: a link from another site still opens the page.
  r = await a.request("http://127.0.0.1:8050/api/thing", {
    headers: { Referer: "http://evil.example/" },
  });
  assert.equal(r.status, 200);
});

Deno.test("a POST with no Origin, Sec-Fetch-Site or Referer (sysmon event, curl) is accepted, off loopback with the token only", async () => {
  const local = app("127.0.0.1");
  let r = await local.request("http://127.0.0.1:8050/api/thing", { method: "POST" });
  assert.equal(r.status, 200);
  const open = app("0.0.0.0", TOKEN);
  r = await open.request("http://10.0.0.2:8050/api/thing", { method: "POST" });
  assert.equal(r.status, 401);
  r = await open.request("http://10.0.0.2:8050/api/thing", {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  assert.deepEqual(await r.json(), { changed: true });
});
