// `sysmon run --listen ADDR`: the tracer's own HTTP listener, serving GET /metrics (the
// Prometheus text format, or OpenMetrics when the scraper asks for it) from what the last
// sample kept (metrics.ts). The rules of `sysmon serve` apply (access.ts): on loopback no
// token and the Host header must name loopback; on any other address a token, sent as
// `Authorization: Bearer TOKEN` (Prometheus: `authorization: {credentials: …}`) or `?token=`.
import { Refusal } from "../schema/refusal.ts";
import { CONTENT_TYPE, type ExpositionFormat, negotiateFormat } from "../collect/exposition.ts";
import { type AuthConfig, clientOf, isLoopbackHost, TokenGuesses, verifyToken } from "./access.ts";

export interface ListenAddress {
  hostname: string;
  port: number;
}

/**
 * `--listen`'s value: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (the last two on loopback,
 * 127.0.0.1: sysmon listens elsewhere only where the user names the address).
 */
export function parseListen(text: string): ListenAddress {
  const t = text.trim();
  const m = /^(\d+)$/.exec(t) ?? /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t) ??
    /^([^:[\]\s]*):(\d+)$/.exec(t);
  const portText = m?.[2] ?? m?.[1];
  const port = Number(portText);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new Refusal(
      "bad_input",
      `--listen ${JSON.stringify(text)}: give HOST:PORT (127.0.0.1:9101, [::1]:9101, ` +
        `0.0.0.0:9101), or :PORT or PORT for loopback`,
    );
  }
  const host = m[2] === undefined ? "" : m[1]!;
  return { hostname: host === "" ? "127.0.0.1" : host, port };
}

export interface MetricsServer {
  /** The URL of /metrics (the port the kernel chose when 0 was asked). */
  url: string;
  address: ListenAddress;
  close(): Promise<void>;
}

/** The URL a scraper uses for an address the listener is bound to. */
function urlOf(a: ListenAddress): string {
  const host = a.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : a.hostname === "::"
    ? "[::1]"
    : a.hostname.includes(":")
    ? `[${a.hostname}]`
    : a.hostname;
  return `http://${host}:${a.port}/metrics`;
}

/**
 * Starts the listener; throws a Refusal (bad_input) when it cannot bind (address in use, not
 * this machine's), before anything is sampled.
 */
export function serveMetrics(o: {
  address: ListenAddress;
  auth: AuthConfig;
  render: (format: ExpositionFormat) => string;
  guesses?: TokenGuesses;
}): MetricsServer {
  const guesses = o.guesses ?? new TokenGuesses();
  const handler = metricsHandler(o.auth, o.render, guesses);
  let bound: ListenAddress = o.address;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: o.address.hostname,
      port: o.address.port,
      onListen: (a) => (bound = { hostname: a.hostname, port: a.port }),
      onError: (err) => text(500, `sysmon: cannot answer: ${(err as Error).message}\n`),
    }, handler);
  } catch (err) {
    const why = err instanceof Deno.errors.AddrInUse
      ? `${o.address.hostname}:${o.address.port} is in use; choose another port`
      : (err as Error).message;
    throw new Refusal("bad_input", `--listen: cannot listen: ${why}`);
  }
  return {
    get url() {
      return urlOf(bound);
    },
    get address() {
      return bound;
    },
    close: async () => {
      await server.shutdown();
    },
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}

/** The request handler (tests call it without a socket). */
export function metricsHandler(
  auth: AuthConfig,
  render: (format: ExpositionFormat) => string,
  guesses: TokenGuesses = new TokenGuesses(),
): (req: Request, info?: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response> {
  return async (req, info) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, `method ${req.method} is not allowed\n`, { Allow: "GET, HEAD" });
    }
    const url = new URL(req.url);
    if (auth.loopbackOnly && !isLoopbackHost(url.hostname)) {
      return text(
        421,
        `host '${url.hostname}' refused: this listener answers loopback names only\n`,
      );
    }
    if (auth.token !== null) {
      const refused = await checkToken(req, url, auth.token, guesses, info);
      if (refused) return refused;
    }
    if (url.pathname === "/") {
      return text(200, "sysmon: the metrics are at /metrics\n");
    }
    if (url.pathname !== "/metrics") return text(404, `no ${url.pathname} here; try /metrics\n`);
    const format = negotiateFormat(req.headers.get("accept"));
    const body = render(format);
    return new Response(req.method === "HEAD" ? null : body, {
      headers: { "Content-Type": CONTENT_TYPE[format], "Cache-Control": "no-store" },
    });
  };
}

async function checkToken(
  req: Request,
  url: URL,
  token: string,
  guesses: TokenGuesses,
  info?: Deno.ServeHandlerInfo<Deno.NetAddr>,
): Promise<Response | null> {
  const fromUrl = url.searchParams.get("token");
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1]?.trim();
  const sent = [fromUrl, bearer].filter((t): t is string => t !== null && t !== undefined);
  const challenge = { "WWW-Authenticate": 'Bearer realm="sysmon"' };
  if (sent.length === 0) {
    return text(
      401,
      "this sysmon listener needs its token: send 'Authorization: Bearer TOKEN' (Prometheus: " +
        "authorization: {credentials: TOKEN}), or ?token=TOKEN\n",
      challenge,
    );
  }
  const client = clientOf(info?.remoteAddr.hostname ?? "unknown");
  const verdict = await verifyToken(sent, client, token, guesses);
  if (verdict === "ok") return null;
  if (verdict === "wrong") return text(401, "the token sent is wrong\n", challenge);
  const seconds = Math.ceil(verdict.waitMs / 1000);
  return text(429, `too many wrong tokens from ${client}; try again in ${seconds} s\n`, {
    "Retry-After": String(seconds),
  });
}
