import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  authConfig,
  generateToken,
  httpError,
  isLoopbackHost,
  secure,
  urlWithToken,
} from "../web/security.ts";

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
    throw httpError(409, "already tracing");
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
