// `sysmon serve [FILE]`: the dashboard over HTTP until Ctrl-C or SIGTERM. Without FILE it
// traces this machine into system_monitor.parquet (a child `sysmon run`, web/live.ts) and
// shows it live; with FILE it shows that trace and follows it while another `sysmon run`
// writes it. Either way the page can start, stop and reset tracing.
import { resolve } from "node:path";
import { createApp } from "./app.ts";
import { LiveSession } from "./events_api.ts";
import {
  type AuthConfig,
  authConfig,
  isLoopbackHost,
  TOKEN_ENV,
  urlWithToken,
} from "./security.ts";

/** What `sysmon serve` traces into when no FILE is given. */
export const DEFAULT_FILE = "system_monitor.parquet";

export interface ServeOptions {
  /** The trace to show (it may not exist yet); null: trace this machine into DEFAULT_FILE. */
  file: string | null;
  port: number;
  host: string;
  /** Open the page in a browser (xdg-open or open). */
  open: boolean;
  /** The token clients must send (default: $SYSMON_TOKEN; generated off loopback). */
  token?: string | null;
  /** No token even off loopback (said with a warning). */
  noAuth?: boolean;
  /** Outputs typed into the page stay inside this directory (default: the trace's). */
  dataDir?: string;
  /** Seconds between samples and between writes when tracing from serve (defaults 1 and 5). */
  sampleInterval?: number;
  writeInterval?: number;
  /** Auto-refresh period of the page, ms. */
  refreshMs?: number;
  /** Stops the server (tests); SIGINT and SIGTERM do too. */
  signal?: AbortSignal;
}

/** The URL a browser uses for an address Deno.serve listens on. */
export function urlFor(host: string, port: number): string {
  const h = host === "0.0.0.0"
    ? "127.0.0.1"
    : host === "::"
    ? "[::1]"
    : host.includes(":")
    ? `[${host}]`
    : host;
  return `http://${h}:${port}/`;
}

/**
 * Serves until a signal; returns the exit code (0 after a clean shutdown, 2 when it cannot
 * listen or an option is wrong).
 */
export async function serveCommand(opts: ServeOptions): Promise<number> {
  let auth: AuthConfig;
  try {
    auth = authConfig({
      host: opts.host,
      token: opts.token,
      noAuth: opts.noAuth,
      env: Deno.env.get(TOKEN_ENV),
    });
  } catch (err) {
    console.error(`sysmon serve: --token (or ${TOKEN_ENV}): ${(err as Error).message}`);
    return 2;
  }
  if (opts.dataDir !== undefined && !isDirectory(opts.dataDir)) {
    console.error(`sysmon serve: --data-dir ${opts.dataDir} is not a directory`);
    return 2;
  }
  for (
    const [flag, v] of [["--sample-interval", opts.sampleInterval], [
      "--write-interval",
      opts.writeInterval,
    ]] as const
  ) {
    if (v !== undefined && !(v >= 0.1)) {
      console.error(`sysmon serve: ${flag} must be at least 0.1 seconds`);
      return 2;
    }
  }
  if (auth.warning) console.warn(`sysmon serve: ${auth.warning}`);
  const session = new LiveSession({
    file: resolve(opts.file ?? DEFAULT_FILE),
    dataDir: opts.dataDir,
    defaults: { sampleInterval: opts.sampleInterval ?? 1, writeInterval: opts.writeInterval ?? 5 },
  });
  const app = createApp({ session, auth, refreshMs: opts.refreshMs });
  const stop = new AbortController();
  opts.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const shutdown = async () => {
    // A second signal while closing (a terminal's Ctrl-C reaches a parent that forwards it
    // too) must not kill the process midway: swap in a listener that ignores it.
    const ignore = () => {};
    for (const s of signals) Deno.addSignalListener(s, ignore);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await app.close();
    const st = await session.close().then(() => session.tracer.status());
    if (st.state === "stopped" || st.state === "failed") {
      console.log(
        `sysmon serve: tracing stopped: ${st.rowsWritten.toLocaleString("en-US")} samples in ` +
          `${st.options?.output}${st.error ? ` (last error: ${st.error})` : ""}`,
      );
    }
  };

  let server: Deno.HttpServer;
  let listening: { hostname: string; port: number } | null = null;
  try {
    server = Deno.serve({
      hostname: opts.host,
      port: opts.port,
      signal: stop.signal,
      onListen: (addr) => (listening = addr),
    }, app.fetch);
  } catch (err) {
    await shutdown();
    const why = err instanceof Deno.errors.AddrInUse
      ? `port ${opts.port} on ${opts.host} is in use; choose another with --port`
      : err instanceof Error
      ? err.message
      : String(err);
    console.error(`sysmon serve: cannot listen: ${why}`);
    return 2;
  }
  const addr = listening ?? { hostname: opts.host, port: (server.addr as Deno.NetAddr).port };
  let tracing = "";
  if (opts.file === null) {
    try {
      const st = await session.start({});
      tracing =
        `\n  tracing this machine every ${st.options?.sampleInterval} s (Stop on the page, ` +
        `or Ctrl-C, which writes everything)`;
    } catch (err) {
      tracing = `\n  cannot start tracing: ${(err as Error).message}`;
    }
  } else await session.follow();
  const url = urlWithToken(urlFor(addr.hostname, addr.port), auth.token);
  const exists = fileExists(session.file);
  const exposed = isLoopbackHost(addr.hostname)
    ? ""
    : auth.token !== null
    ? `\n  listening on ${addr.hostname}: every request needs the token (the URL above sets a ` +
      `cookie; scripts send 'Authorization: Bearer TOKEN' or use sysmon event --token)`
    : `\n  listening on ${addr.hostname} WITHOUT authentication (--no-auth)`;
  console.log(
    `sysmon serve: ${url}${exposed}\n  data file: ${session.file}` +
      (exists || opts.file === null ? "" : " (not there yet: the page waits for it)") + tracing,
  );
  if (opts.open) void openBrowser(url);
  await server.finished;
  await shutdown();
  console.log("sysmon serve: stopped");
  return 0;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** The first of the commands that exists on PATH. */
function findOnPath(names: string[]): string | null {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch {
        // not in this directory
      }
    }
  }
  return null;
}

/** Opens `url` with xdg-open (Linux) or open (macOS); says so when neither is there. */
async function openBrowser(url: string): Promise<void> {
  const cmd = findOnPath(Deno.build.os === "darwin" ? ["open"] : ["xdg-open", "open"]);
  if (!cmd) {
    console.log(`  --open: no xdg-open or open on PATH; open ${url} in a browser yourself`);
    return;
  }
  try {
    const child = new Deno.Command(cmd, {
      args: [url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    const timer = setTimeout(() => {
      try {
        child.kill();
      } catch {
        // already gone
      }
    }, 10_000);
    Deno.unrefTimer(timer);
    const status = await child.status;
    clearTimeout(timer);
    if (!status.success) {
      console.log(`  --open: ${cmd} exited with ${status.code}; open ${url} yourself`);
    } else console.log(`  opened ${url} with ${cmd}`);
  } catch (err) {
    console.log(`  --open: could not run ${cmd} (${(err as Error).message}); open ${url} yourself`);
  }
}
