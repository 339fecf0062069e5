// What keeps the dashboard from being driven by anyone but its user.
//
// - Listening on loopback (the default): no token, but the Host header must name loopback
//   (a page on another site cannot reach the server by pointing its own name at 127.0.0.1).
// - Listening anywhere else: every route needs the token, from `?token=` (set as an HttpOnly,
//   SameSite=Strict cookie, then redirected away), the cookie, or `Authorization: Bearer`.
//   `--no-auth` turns this off, explicitly and with a warning. Wrong tokens cost time: after
//   5 from one client (IPv4 address, IPv6 /64), it waits 1 s, doubling to 60 s (429).
// - GET, HEAD, POST and DELETE only; POST and DELETE refuse cross-site requests (Origin,
//   Sec-Fetch-Site, Referer). Bodies are size-limited. Errors answer JSON without stack traces.
import { onError, onNotFound } from "./errors.ts";
import {
  type AuthConfig,
  clientOf,
  isLoopbackHost,
  TOKEN_ENV,
  TokenGuesses,
  verifyToken,
} from "../tracer/access.ts";
import { Refusal } from "../schema/refusal.ts";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

// The rules themselves (loopback, tokens, wrong guesses) live in src/tracer/access.ts, which the
// tracer's own /metrics listener (`sysmon run --listen`) applies too.
export {
  type AuthConfig,
  authConfig,
  clientOf,
  generateToken,
  type GuessLimits,
  isLoopbackHost,
  TOKEN_ENV,
  TokenGuesses,
} from "../tracer/access.ts";

export const TOKEN_COOKIE = "sysmon_token";

/** The cookie's name for one server: cookies ignore ports, two servers on one host must not. */
export function tokenCookie(url: URL): string {
  return `${TOKEN_COOKIE}_${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}
/** Largest event CSV upload. */
export const MAX_UPLOAD_BYTES = 1024 * 1024;
/** Largest JSON or form body of the other routes. */
export const MAX_BODY_BYTES = 64 * 1024;

const ALLOWED_METHODS = ["GET", "HEAD", "POST", "DELETE"];

/** The URL to print on start: with `?token=` when one is required. */
export function urlWithToken(base: string, token: string | null): string {
  if (token === null) return base;
  const u = new URL(base);
  u.searchParams.set("token", token);
  return u.href;
}

/** The peer's address, as Deno.serve passes it to the app (Hono's `c.env`). */
function remoteAddress(c: Context): string {
  const addr = (c.env as { remoteAddr?: Deno.Addr } | undefined)?.remoteAddr;
  if (addr === undefined) return "unknown";
  return "hostname" in addr ? addr.hostname : addr.transport;
}

const wantsHtml = (c: Context) =>
  !c.req.path.startsWith("/api/") && (c.req.header("accept") ?? "").includes("text/html");

/**
 * Method, host, token and cross-site checks, in that order. Mount first:
 * `app.use("*", securityMiddleware(cfg))`.
 */
export function securityMiddleware(
  cfg: AuthConfig,
  guesses: TokenGuesses = new TokenGuesses(),
): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    if (!ALLOWED_METHODS.includes(method)) {
      c.header("Allow", ALLOWED_METHODS.join(", "));
      return c.json({ error: `method ${method} is not allowed` }, 405);
    }
    const url = new URL(c.req.url);
    if (cfg.loopbackOnly && !isLoopbackHost(url.hostname)) {
      return c.json(
        { error: `host '${url.hostname}' refused: this server answers on loopback names only` },
        421,
      );
    }
    if (cfg.token !== null) {
      const token = cfg.token;
      const fromUrl = url.searchParams.get("token");
      const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
      const sent = fromUrl !== null
        ? [fromUrl]
        : [getCookie(c, tokenCookie(url)), bearer].filter((t) => t !== undefined);
      if (sent.length === 0) return unauthorized(c, "this sysmon server needs its token");
      const client = clientOf(remoteAddress(c));
      const verdict = await verifyToken(sent, client, token, guesses);
      if (verdict === "wrong") {
        return unauthorized(
          c,
          fromUrl !== null ? "the token in the URL is wrong" : "the token sent is wrong",
        );
      }
      if (verdict !== "ok") return tooManyGuesses(c, client, verdict.waitMs);
      if (fromUrl !== null) {
        setCookie(c, tokenCookie(url), token, {
          httpOnly: true,
          sameSite: "Strict",
          path: "/",
          secure: url.protocol === "https:",
          maxAge: 30 * 24 * 3600,
        });
        if (method === "GET" || method === "HEAD") {
          url.searchParams.delete("token");
          return c.redirect(url.pathname + url.search, 303);
        }
      }
    }
    if (method === "POST" || method === "DELETE") {
      const refused = crossSite(c, url);
      if (refused) return c.json({ error: refused }, 403);
    }
    await next();
  };
}

/**
 * Why a state-changing request is cross-site, or null when it is not. Browsers send
 * Sec-Fetch-Site (all current ones) or Origin with every cross-site POST and DELETE, so a
 * request with neither is no browser's form or fetch and cannot be a forgery: it is
 * `sysmon event`, curl or a script, and needs the token off loopback like any other. A
 * Referer naming another origin (an older browser, or a client saying so) is refused too.
 */
function crossSite(c: Context, url: URL): string | null {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  }
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== url.origin) {
    return `cross-site request refused (Origin ${origin} is not ${url.origin})`;
  }
  const referer = c.req.header("referer");
  const from = referer !== undefined && URL.canParse(referer) ? new URL(referer).origin : null;
  if (referer !== undefined && from !== url.origin) {
    const shown = referer.slice(0, 200);
    return `cross-site request refused (Referer ${shown} is not from ${url.origin})`;
  }
  return null;
}

function tooManyGuesses(c: Context, client: string, waitMs: number): Response {
  const seconds = Math.ceil(waitMs / 1000);
  c.header("Retry-After", String(seconds));
  const why = `too many wrong tokens from ${client}; try again in ${seconds} s`;
  if (wantsHtml(c)) {
    return c.html(
      `<!doctype html><title>sysmon: wait</title><h1>Too many wrong tokens</h1><p>` +
        `${why.replaceAll("<", "&lt;")}.</p>`,
      429,
    );
  }
  return c.json({ error: why }, 429);
}

function unauthorized(c: Context, why: string): Response {
  c.header("WWW-Authenticate", 'Bearer realm="sysmon"');
  if (wantsHtml(c)) {
    return c.html(
      `<!doctype html><title>sysmon: token needed</title><h1>Token needed</h1>` +
        `<p>${why}. Open the address <code>sysmon serve</code> printed when it started ` +
        `(it ends in <code>?token=…</code>), or send <code>Authorization: Bearer TOKEN</code>.</p>`,
      401,
    );
  }
  return c.json({
    error: `${why}: open the URL sysmon serve printed (…?token=…), or send ` +
      `'Authorization: Bearer TOKEN' (sysmon event: --token or ${TOKEN_ENV})`,
  }, 401);
}

/**
 * Refuses bodies over `maxBytes` with 413: the declared length, or as a body without one
 * (chunked) streams in. Such a body is read here and handed on as a new request built from the
 * URL, method and headers; hono's bodyLimit builds it from the request itself, which copies
 * (so reads) its `signal`, and Deno.serve then warns on the terminal about its legacy abort.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new Refusal("too_large", `the request body is larger than ${formatSize(maxBytes)}`);
  };
  return async (c, next) => {
    const raw = c.req.raw;
    if (raw.body === null) return await next();
    const declared = raw.headers.get("content-length");
    if (declared !== null && !raw.headers.has("transfer-encoding")) {
      return Number.parseInt(declared, 10) > maxBytes ? tooLarge() : await next();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = raw.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        return tooLarge();
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) (body.set(chunk, at), at += chunk.length);
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body });
    return await next();
  };
}

function formatSize(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

/** Applies everything above to an app: checks on every route, error and 404 handlers. */
export function secure(app: Hono, cfg: AuthConfig, guesses?: TokenGuesses): Hono {
  app.use("*", securityMiddleware(cfg, guesses));
  app.onError(onError);
  app.notFound(onNotFound);
  return app;
}
