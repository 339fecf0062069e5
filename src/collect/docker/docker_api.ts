// A minimal HTTP/1.1 client for the Docker Engine API over its unix socket (or tcp://):
// one connection per request (`Connection: close`), Content-Length and chunked bodies, a
// deadline on every request that closes the connection, and errors that say what to do.
// Written on Deno.connect rather than fetch so that a missing socket, a refused connection
// and a permission problem arrive as distinct error classes, not as one message to parse.

/** Where the daemon listens: DOCKER_HOST's `unix://PATH` or `tcp://HOST:PORT`. */
export type DockerHost =
  | { transport: "unix"; path: string }
  | { transport: "tcp"; hostname: string; port: number };

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/**
 * Parses a DOCKER_HOST value (`unix:///run/docker.sock`, `tcp://10.0.0.2:2375`, `http://…`,
 * or a bare socket path). Throws a DockerApiError ("host") for others (ssh://, npipe://): the
 * collector reports it once and never connects.
 */
export function parseDockerHost(value: string): DockerHost {
  const v = value.trim();
  if (v.startsWith("/")) return { transport: "unix", path: v };
  const unix = /^unix:\/\/(\/.*)$/.exec(v);
  if (unix) return { transport: "unix", path: unix[1]! };
  const tcp = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(v);
  if (tcp) {
    const port = tcp[2] === undefined ? 2375 : Number(tcp[2]);
    if (port > 0 && port < 65536) {
      return { transport: "tcp", hostname: tcp[1]!.replace(/^\[|\]$/g, ""), port };
    }
  }
  throw new DockerApiError(
    "host",
    `DOCKER_HOST=${value} is not supported (sysmon speaks unix:///path and tcp://host:port ` +
      `without TLS); set DOCKER_HOST to one of those or use --no-docker`,
  );
}

/** The host as a user writes it, for messages. */
export function describeHost(host: DockerHost): string {
  return host.transport === "unix" ? `unix://${host.path}` : `tcp://${host.hostname}:${host.port}`;
}

/**
 * What went wrong talking to the daemon. `kind` is the key notices are given once per:
 * absent (no socket file), refused (nothing listens), permission, timeout, broken (the
 * connection dropped mid-answer), http (an error status), protocol (not HTTP/JSON), host
 * (unusable DOCKER_HOST), closed (the client was closed), other.
 */
export type FailureKind =
  | "absent"
  | "refused"
  | "permission"
  | "timeout"
  | "broken"
  | "http"
  | "protocol"
  | "host"
  | "closed"
  | "other";

export class DockerApiError extends Error {
  readonly kind: FailureKind;
  /** The HTTP status for kind "http". */
  readonly status: number | null;
  constructor(kind: FailureKind, message: string, status: number | null = null) {
    super(message);
    this.name = "DockerApiError";
    this.kind = kind;
    this.status = status;
  }
}

/**
 * Maps an error thrown while talking to the daemon at `target` to a DockerApiError with a
 * message a user can act on. Deno's classes: NotFound (no socket file), ConnectionRefused
 * (a socket file nobody listens on: the daemon died), PermissionDenied (EACCES on the
 * socket), NotCapable (Deno was not given --allow-read/--allow-net), ConnectionReset,
 * BrokenPipe, UnexpectedEof (the daemon went away mid-answer).
 */
export function toApiError(err: unknown, target: string): DockerApiError {
  if (err instanceof DockerApiError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof Deno.errors.NotFound) {
    return new DockerApiError(
      "absent",
      `no Docker daemon: ${target} does not exist (start Docker or podman's service, set ` +
        `DOCKER_HOST, or use --no-docker)`,
    );
  }
  if (err instanceof Deno.errors.ConnectionRefused) {
    return new DockerApiError(
      "refused",
      `no Docker daemon answers at ${target}: connection refused (is the daemon running?)`,
    );
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new DockerApiError(
      "permission",
      `permission denied on ${target} (run as root, or add the user to the docker group)`,
    );
  }
  if (err instanceof Deno.errors.NotCapable) {
    return new DockerApiError(
      "permission",
      `Deno may not open ${target}: ${detail} (run with --allow-read --allow-write --allow-net)`,
    );
  }
  if (
    err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.UnexpectedEof || err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.NotConnected
  ) {
    return new DockerApiError("broken", `the Docker daemon at ${target} went away: ${detail}`);
  }
  if (err instanceof Deno.errors.TimedOut) {
    return new DockerApiError("timeout", `the Docker daemon at ${target} timed out: ${detail}`);
  }
  return new DockerApiError("other", `talking to the Docker daemon at ${target}: ${detail}`);
}

export interface DockerResponse {
  status: number;
  /** Header names in lower case. */
  headers: Map<string, string>;
  body: Uint8Array;
}

const CRLF2 = [13, 10, 13, 10];

function indexOf(buf: Uint8Array, pattern: number[], from: number, end: number): number {
  outer: for (let i = from; i + pattern.length <= end; i++) {
    for (let j = 0; j < pattern.length; j++) if (buf[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Reads one HTTP/1.1 response fed in pieces: the head, then a body framed by
 * Content-Length, by chunked transfer encoding, or by the end of the connection.
 */
export class ResponseReader {
  private buf = new Uint8Array(4096);
  private len = 0;
  private head: { status: number; headers: Map<string, string> } | null = null;
  private bodyStart = 0;
  private framing: { by: "length"; n: number } | { by: "chunked" } | { by: "eof" } | null = null;
  /** chunked: where the next chunk's size line starts, and the decoded parts so far. */
  private chunkPos = 0;
  private parts: Uint8Array[] = [];
  private partsLen = 0;
  private done: DockerResponse | null = null;
  private readonly maxBytes: number;

  constructor(maxBytes = 16 << 20) {
    this.maxBytes = maxBytes;
  }

  /** Adds bytes; the response once it is complete, else null. */
  feed(chunk: Uint8Array): DockerResponse | null {
    if (this.done) return this.done;
    if (this.len + chunk.length > this.maxBytes) {
      throw new DockerApiError("protocol", `answer larger than ${this.maxBytes} bytes`);
    }
    if (this.len + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + chunk.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    return this.advance();
  }

  /** The connection ended: the response if that completes it; throws when cut short. */
  end(): DockerResponse {
    const r = this.advance();
    if (r) return r;
    if (this.head && this.framing?.by === "eof") {
      this.done = { ...this.head, body: this.buf.slice(this.bodyStart, this.len) };
      return this.done;
    }
    throw new DockerApiError(
      "broken",
      this.head ? "the answer was cut short" : "the connection closed before any answer",
    );
  }

  private advance(): DockerResponse | null {
    if (this.done) return this.done;
    if (!this.head && !this.readHead()) return null;
    const f = this.framing!;
    if (f.by === "length") {
      if (this.len - this.bodyStart < f.n) return null;
      return this.finish(this.buf.slice(this.bodyStart, this.bodyStart + f.n));
    }
    if (f.by === "chunked") return this.readChunks();
    return null;
  }

  private readHead(): boolean {
    const end = indexOf(this.buf, CRLF2, 0, this.len);
    if (end < 0) {
      if (this.len > 65536) throw new DockerApiError("protocol", "HTTP head longer than 64 KiB");
      return false;
    }
    const lines = new TextDecoder().decode(this.buf.subarray(0, end)).split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!status) {
      throw new DockerApiError(
        "protocol",
        `not an HTTP answer: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`,
      );
    }
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const code = Number(status[1]);
    this.head = { status: code, headers };
    this.bodyStart = end + 4;
    this.chunkPos = this.bodyStart;
    const te = headers.get("transfer-encoding")?.toLowerCase() ?? "";
    const cl = headers.get("content-length");
    if (code === 204 || code === 304 || (code >= 100 && code < 200)) {
      this.framing = { by: "length", n: 0 };
    } else if (te.includes("chunked")) this.framing = { by: "chunked" };
    else if (cl !== undefined && /^\d+$/.test(cl)) this.framing = { by: "length", n: Number(cl) };
    else this.framing = { by: "eof" };
    return true;
  }

  private readChunks(): DockerResponse | null {
    for (;;) {
      const lineEnd = indexOf(this.buf, [13, 10], this.chunkPos, this.len);
      if (lineEnd < 0) return null;
      const sizeText = new TextDecoder().decode(this.buf.subarray(this.chunkPos, lineEnd));
      const size = parseInt(sizeText.split(";")[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0) {
        throw new DockerApiError("protocol", `bad chunk size ${JSON.stringify(sizeText)}`);
      }
      if (size === 0) {
        // Trailers end with an empty line; without trailers it is the next CRLF.
        const trailerEnd = this.len - lineEnd >= 4 &&
            this.buf[lineEnd + 2] === 13 && this.buf[lineEnd + 3] === 10
          ? lineEnd + 4
          : indexOf(this.buf, CRLF2, lineEnd, this.len);
        if (trailerEnd < 0) return null;
        const body = new Uint8Array(this.partsLen);
        let at = 0;
        for (const p of this.parts) {
          body.set(p, at);
          at += p.length;
        }
        return this.finish(body);
      }
      const dataStart = lineEnd + 2;
      if (this.len < dataStart + size + 2) return null;
      this.parts.push(this.buf.slice(dataStart, dataStart + size));
      this.partsLen += size;
      this.chunkPos = dataStart + size + 2;
    }
  }

  private finish(body: Uint8Array): DockerResponse {
    this.done = { ...this.head!, body };
    return this.done;
  }
}

/** A connection that can be closed from anywhere, once. */
class Line {
  conn: Deno.Conn | null = null;
  closed = false;

  attach(conn: Deno.Conn): void {
    this.conn = conn;
    if (this.closed) this.shut();
  }

  close(): void {
    this.closed = true;
    this.shut();
  }

  private shut() {
    const c = this.conn;
    this.conn = null;
    if (!c) return;
    try {
      c.close();
    } catch (err) {
      // Already closed by the other side of a race: nothing left to release.
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  }
}

/** GET requests to the Engine API, each on its own connection and with its own deadline. */
export class DockerClient {
  readonly host: DockerHost;
  readonly target: string;
  private readonly maxBytes: number;
  private readonly lines = new Set<Line>();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(host: DockerHost, opts: { maxBytes?: number } = {}) {
    this.host = host;
    this.target = describeHost(host);
    this.maxBytes = opts.maxBytes ?? 16 << 20;
  }

  /**
   * GET `path` (e.g. `/v1.41/containers/json`); rejects with a DockerApiError when there is
   * no answer within `timeoutMs` (the connection is closed then), or on any failure.
   */
  async get(path: string, timeoutMs: number): Promise<DockerResponse> {
    if (this.closed) throw new DockerApiError("closed", "the Docker client is closed");
    const line = new Line();
    this.lines.add(line);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exchange = this.exchange(line, path);
    const tracked = exchange.catch(() => {});
    this.pending.add(tracked);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        line.close();
        reject(
          new DockerApiError(
            "timeout",
            `the Docker daemon at ${this.target} did not answer GET ${path} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([exchange, deadline]);
    } catch (err) {
      if (this.closed) throw new DockerApiError("closed", "the Docker client is closed");
      throw toApiError(err, this.target);
    } finally {
      clearTimeout(timer);
      line.close();
      this.lines.delete(line);
      tracked.then(() => this.pending.delete(tracked));
    }
  }

  /** GET `path` as JSON; a DockerApiError ("http") for an error status, with its message. */
  async getJson(path: string, timeoutMs: number): Promise<unknown> {
    const res = await this.get(path, timeoutMs);
    const text = new TextDecoder().decode(res.body);
    if (res.status < 200 || res.status > 299) {
      throw new DockerApiError(
        "http",
        `GET ${path} answered ${res.status}${errorDetail(text)}`,
        res.status,
      );
    }
    return parseJson(text, path);
  }

  /** Closes every open connection (their requests reject) and waits for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const line of this.lines) line.close();
    await Promise.all([...this.pending]);
  }

  private async exchange(line: Line, path: string): Promise<DockerResponse> {
    const conn = this.host.transport === "unix"
      ? await Deno.connect({ transport: "unix", path: this.host.path })
      : await Deno.connect({ hostname: this.host.hostname, port: this.host.port });
    line.attach(conn);
    if (line.closed) throw new DockerApiError("timeout", "closed while connecting");
    const hostHeader = this.host.transport === "unix"
      ? "docker"
      : `${this.host.hostname}:${this.host.port}`;
    const request = `GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: sysmon\r\n` +
      `Accept: application/json\r\nConnection: close\r\n\r\n`;
    const bytes = new TextEncoder().encode(request);
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    const reader = new ResponseReader(this.maxBytes);
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return reader.end();
      const done = reader.feed(buf.subarray(0, n));
      if (done) return done;
    }
  }
}

/** `: <message>` from a Docker error body ({"message": "..."}), or "" when there is none. */
function errorDetail(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown })?.message;
    if (typeof m === "string" && m) return `: ${m.slice(0, 300)}`;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return text.trim() ? `: ${text.trim().slice(0, 300)}` : "";
}

/** JSON.parse, with a DockerApiError ("protocol") for a body that is not JSON. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new DockerApiError(
      "protocol",
      `GET ${path} answered with something other than JSON: ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
}
