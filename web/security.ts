// What keeps the dashboard from being driven by anyone but its user.
//
// - Listening on loopback (the default): no token, but the Host header must name loopback
//   (a page on another site cannot reach the server by pointing its own name at 127.0.0.1).
// - Listening anywhere else: every route needs the token, from `?token=` (set as an HttpOnly,
//   SameSite=Strict cookie, then redirected away), the cookie, or `Authorization: Bearer`.
//   `--no-auth` turns this off, explicitly and with a warning.
// - GET, HEAD, POST and DELETE only; POST and DELETE refuse cross-site requests (Origin,
//   Sec-Fetch-Site). Bodies are size-limited. Errors answer JSON without stack traces.
import type { Context, ErrorHandler, Hono, MiddlewareHandler, NotFoundHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";

export const TOKEN_COOKIE = "sysmon_token";

/** The cookie's name for one server: cookies ignore ports, two servers on one host must not. */
export function tokenCookie(url: URL): string {
  return `${TOKEN_COOKIE}_${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}
export const TOKEN_ENV = "SYSMON_TOKEN";
/** Largest event CSV upload. */
export const MAX_UPLOAD_BYTES = 1024 * 1024;
/** Largest JSON or form body of the other routes. */
export const MAX_BODY_BYTES = 64 * 1024;

const ALLOWED_METHODS = ["GET", "HEAD", "POST", "DELETE"];

export interface AuthConfig {
  /** The token every request must carry; null when none is required. */
  token: string | null;
  /** The server listens on loopback only: Host headers must name loopback. */
  loopbackOnly: boolean;
  /** To print on start (e.g. for --no-auth), or null. */
  warning: string | null;
}

/** True for localhost, 127.0.0.0/8 and ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(h) || h === "0:0:0:0:0:0:0:1";
}

/** 256 random bits, URL-safe. */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Decides authentication for `sysmon serve`: loopback needs none (unless a token is given);
 * any other address needs a token (given, from SYSMON_TOKEN, or generated), unless --no-auth.
 */
export function authConfig(o: {
  host: string;
  token?: string | null;
  noAuth?: boolean;
  env?: string | null;
}): AuthConfig {
  const loopbackOnly = isLoopbackHost(o.host);
  const given = (o.token ?? o.env ?? "").trim() || null;
  if (o.noAuth) {
    return {
      token: null,
      loopbackOnly,
      warning: loopbackOnly ? null : `--no-auth: anyone who can reach ${o.host} can start and ` +
        `stop tracing, write files in the data directory and read every process's command line`,
    };
  }
  if (given !== null && given.length < 16) {
    throw new Error("the token must be at least 16 characters long");
  }
  if (loopbackOnly) return { token: given, loopbackOnly, warning: null };
  return { token: given ?? generateToken(), loopbackOnly, warning: null };
}

/** The URL to print on start: with `?token=` when one is required. */
export function urlWithToken(base: string, token: string | null): string {
  if (token === null) return base;
  const u = new URL(base);
  u.searchParams.set("token", token);
  return u.href;
}

/** Compares without an early exit, so timing does not tell how much of a guess was right. */
function sameToken(a: string | undefined | null, b: string): boolean {
  if (typeof a !== "string" || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** One JSON error answer (also what HTTPException carries). */
export function httpError(
  status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 421 | 422 | 500,
  message: string,
): HTTPException {
  return new HTTPException(status, {
    res: Response.json({ error: message }, { status }),
    message,
  });
}

const wantsHtml = (c: Context) =>
  !c.req.path.startsWith("/api/") && (c.req.header("accept") ?? "").includes("text/html");

/**
 * Method, host, token and cross-site checks, in that order. Mount first:
 * `app.use("*", securityMiddleware(cfg))`.
 */
export function securityMiddleware(cfg: AuthConfig): MiddlewareHandler {
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
      const fromUrl = url.searchParams.get("token");
      if (fromUrl !== null) {
        if (!sameToken(fromUrl, cfg.token)) return unauthorized(c, "the token in the URL is wrong");
        setCookie(c, tokenCookie(url), cfg.token, {
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
      } else {
        const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
        if (
          !sameToken(getCookie(c, tokenCookie(url)), cfg.token) && !sameToken(bearer, cfg.token)
        ) {
          return unauthorized(c, "this sysmon server needs its token");
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

/** Why a state-changing request is cross-site, or null when it is not. */
function crossSite(c: Context, url: URL): string | null {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  }
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== url.origin) {
    return `cross-site request refused (Origin ${origin} is not ${url.origin})`;
  }
  return null;
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

/** JSON errors, never a stack trace; unexpected errors are logged on the server. */
export const errorHandler: ErrorHandler = (err, c) => {
  if (err instanceof HTTPException) {
    if (err.res) return err.res;
    return c.json({ error: err.message || "request refused" }, err.status);
  }
  console.error(`sysmon serve: ${c.req.method} ${c.req.path}:`, err);
  return c.json({ error: "internal error (details are in the server's log)" }, 500);
};

export const notFoundHandler: NotFoundHandler = (c) =>
  c.json({ error: `no such page: ${c.req.method} ${c.req.path}` }, 404);

/** Refuses bodies over `maxBytes` with 413 (the declared length, or as it streams in). */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      c.json({ error: `the request body is larger than ${formatSize(maxBytes)}` }, 413),
  });
}

function formatSize(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

/** Applies everything above to an app: checks on every route, error and 404 handlers. */
export function secure(app: Hono, cfg: AuthConfig): Hono {
  app.use("*", securityMiddleware(cfg));
  app.onError(errorHandler);
  app.notFound(notFoundHandler);
  return app;
}
