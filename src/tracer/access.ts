// Who may read what sysmon serves: the dashboard (src/server/security.ts applies these rules
// to every route) and the tracer's own /metrics (`sysmon run --listen`, metrics_http.ts).
//
// - Loopback (the default): no token, unless one is given; the Host header must name loopback.
// - Any other address: a token (given, $SYSMON_TOKEN, or generated), unless --no-auth.
// - Wrong tokens cost time: after 5 from one client (IPv4 address, IPv6 /64), it waits 1 s,
//   doubling to 60 s.

export const TOKEN_ENV = "SYSMON_TOKEN";

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
 * Decides authentication for `sysmon serve` and `sysmon run --listen`: loopback needs none
 * (unless a token is given); any other address needs a token (given, from SYSMON_TOKEN, or
 * generated), unless --no-auth. `exposes` says what --no-auth opens to anyone (in its warning).
 */
export function authConfig(o: {
  host: string;
  token?: string | null;
  noAuth?: boolean;
  env?: string | null;
  exposes?: string;
}): AuthConfig {
  const loopbackOnly = isLoopbackHost(o.host);
  const given = (o.token ?? o.env ?? "").trim() || null;
  if (o.noAuth) {
    return {
      token: null,
      loopbackOnly,
      warning: loopbackOnly
        ? null
        : `--no-auth: anyone who can reach ${o.host} can ${
          o.exposes ?? "start and stop tracing, write files in the data directory and read " +
              "every process's command line"
        }`,
    };
  }
  if (given !== null && given.length < 16) {
    throw new Error("the token must be at least 16 characters long");
  }
  if (loopbackOnly) return { token: given, loopbackOnly, warning: null };
  return { token: given ?? generateToken(), loopbackOnly, warning: null };
}

/** Compares in a time set by the token's length alone: it tells nothing about the guess. */
export function sameToken(guess: string, token: string): boolean {
  let diff = guess.length ^ token.length;
  for (let i = 0; i < token.length; i++) {
    diff |= (guess.charCodeAt(i) || 0) ^ token.charCodeAt(i);
  }
  return diff === 0;
}

// ---------------------------------------------------------------- wrong tokens

export interface GuessLimits {
  /** Wrong tokens a client may send before it has to wait (default 5). */
  allowed?: number;
  /** The first wait (ms, default 1000); each further wrong token doubles it. */
  firstWaitMs?: number;
  /** The longest wait (ms, default 60 000). */
  maxWaitMs?: number;
  /** Clients kept (default 4096); the least recent is forgotten first. */
  maxTracked?: number;
  /** A client quiet this long (ms, default 15 min) starts over. */
  forgetMs?: number;
  now?: () => number;
}

interface Guesser {
  failures: number;
  last: number;
  until: number;
  /** Digests of the last wrong tokens: a repeat teaches nothing, so it is not a guess. */
  recent: string[];
}

/** Wrong tokens per client, and how long each must wait before the next try. */
export class TokenGuesses {
  private readonly clients = new Map<string, Guesser>();
  private readonly o: Required<GuessLimits>;

  constructor(limits: GuessLimits = {}) {
    this.o = {
      allowed: 5,
      firstWaitMs: 1000,
      maxWaitMs: 60_000,
      maxTracked: 4096,
      forgetMs: 15 * 60_000,
      now: Date.now,
      ...limits,
    };
  }

  /** How many clients are kept. */
  get size(): number {
    return this.clients.size;
  }

  /** Milliseconds until `client` may try again; 0 when it may now. */
  waitMs(client: string): number {
    const g = this.clients.get(client);
    return g ? Math.max(0, g.until - this.o.now()) : 0;
  }

  /** Records a wrong token; from the `allowed`-th on, the client waits. */
  async fail(client: string, token: string) {
    const digest = await sha256(token);
    const now = this.o.now();
    let g = this.clients.get(client);
    this.clients.delete(client); // set again below: the map stays in order of last failure
    if (!g || now - g.last > this.o.forgetMs) g = { failures: 0, last: now, until: 0, recent: [] };
    while (this.clients.size >= this.o.maxTracked) {
      this.clients.delete(this.clients.keys().next().value!);
    }
    this.clients.set(client, g);
    g.last = now;
    if (g.recent.includes(digest)) return;
    g.recent = [...g.recent.slice(-3), digest];
    g.failures++;
    const over = g.failures - this.o.allowed;
    if (over >= 0) g.until = now + Math.min(this.o.firstWaitMs * 2 ** over, this.o.maxWaitMs);
  }

  /** The right token: the client starts over. */
  succeed(client: string) {
    this.clients.delete(client);
  }
}

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whom wrong tokens are counted against: an IPv4 address, or an IPv6 /64 (what one
 * host usually has; counting single IPv6 addresses would give it 2^64 tries).
 */
export function clientOf(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (v4) return v4[1]!;
  if (!a.includes(":")) return a;
  const [head = "", tail] = a.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array(Math.max(0, 8 - left.length - right.length));
  const groups = [...left, ...zeros.fill("0"), ...right].slice(0, 4);
  return `${groups.map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

export type TokenVerdict = "ok" | "wrong" | { waitMs: number };

/**
 * Whether any token `client` sent is `token`: "ok", "wrong" (counted against the client), or
 * how long the client must wait after too many wrong ones.
 */
export async function verifyToken(
  sent: string[],
  client: string,
  token: string,
  guesses: TokenGuesses,
): Promise<TokenVerdict> {
  const wait = guesses.waitMs(client);
  if (wait > 0) return { waitMs: wait };
  if (!sent.some((t) => sameToken(t, token))) {
    await guesses.fail(client, sent.join("\n"));
    return "wrong";
  }
  guesses.succeed(client);
  return "ok";
}
