// `sysmon event NAME [--at TIME] [--url URL] [--token T]`: marks an event on a running
// `sysmon serve` (POST /api/events), for scripts ("deploy started").
import { parseTime } from "../live/event_time.ts";
import { isRefusal } from "../schema/refusal.ts";
import { localZone } from "../store/metadata.ts";

export const DEFAULT_URL = "http://127.0.0.1:8050";

export interface EventCommandOptions {
  name: string;
  /** ISO 8601; a time without a zone is this machine's local time. Default: now. */
  at?: string;
  url?: string;
  token?: string | null;
  timeoutMs?: number;
}

/** Sends the event; returns the exit code (0 sent, 1 the server refused or is unreachable, 2 bad input). */
export async function eventCommand(
  o: EventCommandOptions,
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => console.log(s),
    err: (s) => console.error(s),
  },
): Promise<number> {
  const name = o.name.trim();
  if (name === "") {
    io.err("sysmon event: the event needs a name");
    return 2;
  }
  let timestamp: string | undefined;
  if (o.at !== undefined) {
    try {
      timestamp = new Date(parseTime(o.at, localZone()).at).toISOString();
    } catch (err) {
      if (!isRefusal(err)) throw err;
      io.err(`sysmon event: --at: ${err.message}`);
      return 2;
    }
  }
  let base: URL;
  try {
    base = new URL(o.url ?? DEFAULT_URL);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error("not http");
  } catch {
    io.err(`sysmon event: --url '${o.url}' is not an http:// or https:// address`);
    return 2;
  }
  const target = new URL("api/events", base.href.endsWith("/") ? base : `${base.href}/`);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const token = o.token?.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: "POST",
      headers,
      body: JSON.stringify({ name, ...(timestamp ? { timestamp } : {}) }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    io.err(`sysmon event: cannot reach ${base.origin}: ${describeFetchError(err)}`);
    return 1;
  }
  let body: { error?: string; event?: { id: string; name: string; time: string } } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (res.status === 401) {
    io.err(
      token
        ? `sysmon event: ${base.origin} refused the token (401); check --token or SYSMON_TOKEN`
        : `sysmon event: ${base.origin} needs a token (401): pass --token or set SYSMON_TOKEN ` +
          `(it is in the URL sysmon serve printed, after ?token=)`,
    );
    return 1;
  }
  if (!res.ok || !body.event) {
    io.err(
      `sysmon event: ${base.origin} refused the event (${res.status}): ${
        body.error ?? res.statusText
      }`,
    );
    return 1;
  }
  io.out(`sysmon: event '${body.event.name}' at ${body.event.time} (id ${body.event.id})`);
  return 0;
}

function describeFetchError(err: unknown): string {
  if (err instanceof DOMException && err.name === "TimeoutError") {
    return "no answer within the timeout; is it a sysmon server?";
  }
  // Deno's fetch says "fetch failed"; the reason is in the cause.
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
  const msg = err instanceof Error ? `${err.message}${cause}` : String(err);
  if (/refused/i.test(msg)) return "connection refused. Is `sysmon serve` running at that address?";
  if (/dns|lookup|resolve|name or service/i.test(msg)) {
    return `the host name does not resolve (${msg})`;
  }
  return msg;
}
