// `sysmon serve [FILE]`: the dashboard over HTTP until Ctrl-C or SIGTERM. Without FILE it
// traces this machine into system_monitor.parquet (a child `sysmon run`, src/live/tracer.ts) and
// shows it live; with FILE it shows that trace and follows it while another `sysmon run`
// writes it. Either way the page can start, stop and reset tracing.
import { isMany, listTraces } from "../query/multi.ts";
import { Comparison } from "../server/comparison.ts";
import { isRefusal } from "../schema/refusal.ts";
import { basename, resolve } from "node:path";
import { terminalSafe } from "../schema/safe_text.ts";
import { fitParts, LiveLine, plural, toStdout } from "./live_line.ts";
import { chartColumns, createApp, type DashboardApp } from "../server/app.ts";
import { LiveSession } from "../live/session.ts";
import { dataDirProblem, inspectPath, servedFileProblem } from "../store/paths.ts";
import {
  type AuthConfig,
  authConfig,
  isLoopbackHost,
  TOKEN_ENV,
  urlWithToken,
} from "../server/security.ts";

/** What `sysmon serve` traces into when no FILE is given. */
export const DEFAULT_FILE = "system_monitor.parquet";

export interface ServeOptions {
  /** The trace to show (it may not exist yet); null: trace this machine into DEFAULT_FILE. */
  file: string | null;
  /**
   * Every trace given (`serve A B …`): several traces (or a directory holding several) are
   * shown side by side; `file` is the first.
   */
  files?: string[];
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

/** How long requests still running (a download, a live stream) may go on after a signal. */
export const DRAIN_MS = 3000;
/** How long the tracer started from serve may take to write everything and exit. */
export const TRACER_STOP_MS = 5000;

/**
 * Serves until a signal; returns the exit code (0 after a clean shutdown, 2 when it cannot
 * listen or an option or the file is wrong). Connections still open when it returns (a
 * client that never reads) are the caller's to end: `sysmon serve` exits.
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
  const dirProblem = opts.dataDir !== undefined ? dataDirProblem(opts.dataDir) : null;
  const pathProblem = dirProblem !== null ? `--data-dir ${dirProblem}` : givenProblem(opts);
  if (pathProblem !== null) {
    console.error(`sysmon serve: ${pathProblem}`);
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
  const { session, compare } = sessionFor(opts);
  const app = createApp({ session, auth, refreshMs: opts.refreshMs, compare });
  const stop = new AbortController();
  const stopped = new Promise<void>((r) => stop.signal.addEventListener("abort", () => r()));
  opts.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  // Every signal, the second one included (a terminal's Ctrl-C also reaches a parent that
  // forwards it), only asks to stop: the shutdown below is bounded, so nothing can wedge it.
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);

  let requests = 0;
  let server: Deno.HttpServer | null = null;
  let listening: { hostname: string; port: number } | null = null;
  try {
    server = Deno.serve({
      hostname: opts.host,
      port: opts.port,
      onListen: (addr) => (listening = addr),
    }, (req, info) => {
      requests++;
      return app.fetch(req, info);
    });
  } catch (err) {
    await shutdown(null, app, session);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
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
  const begin = async () => {
    try {
      if (opts.file !== null) return await session.follow();
      const st = await session.start({});
      tracing =
        `\n  tracing this machine every ${st.options?.sampleInterval} s (Stop on the page, ` +
        `or Ctrl-C, which writes everything)`;
    } catch (err) {
      tracing = `\n  cannot ${opts.file ? "follow" : "start tracing"}: ${(err as Error).message}`;
    }
  };
  // A signal while the tracer starts stops serve at once.
  if (await Promise.race([begin().then(() => true), stopped.then(() => false)])) {
    const url = urlWithToken(urlFor(addr.hostname, addr.port), auth.token);
    const exposed = isLoopbackHost(addr.hostname)
      ? ""
      : auth.token !== null
      ? `\n  listening on ${addr.hostname}: every request needs the token (the URL above sets ` +
        `a cookie; scripts send 'Authorization: Bearer TOKEN' or use sysmon event --token)`
      : `\n  listening on ${addr.hostname} WITHOUT authentication (--no-auth)`;
    const waiting = opts.file !== null && inspectPath(session.file).kind === "missing"
      ? " (not there yet: the page waits for it)"
      : "";
    const traces = compare?.traces() ?? [];
    const data = traces.length > 1
      ? `data file: ${session.file} (the first of ${traces.length} traces side by side: ` +
        `${traces.map((t) => t.spec.path).join(", ")})`
      : `data file: ${session.file}${waiting}`;
    console.log(`sysmon serve: ${url}${exposed}\n  ${data}${tracing}`);
    // On a terminal, one status line under that, redrawn every second.
    const line = Deno.stdout.isTerminal() ? new LiveLine(toStdout) : null;
    const plain = urlFor(addr.hostname, addr.port);
    const draw = () => line?.show((w) => serveStatusLine(plain, session, requests, w));
    draw();
    line?.holdConsole();
    const ticker = line ? setInterval(draw, 1000) : undefined;
    if (opts.open) void openBrowser(url);
    await stopped;
    clearInterval(ticker);
    line?.end();
  }
  await shutdown(server, app, session);
  for (const s of signals) Deno.removeSignalListener(s, onSignal);
  console.log("sysmon serve: stopped");
  return 0;
}

/** serve's status line: its URL, the trace, the tracer's state, the requests answered. */
function serveStatusLine(
  url: string,
  session: LiveSession,
  requests: number,
  width: number,
): string {
  const file = terminalSafe(session.file);
  const served = plural(requests, "request");
  const tracer = tracerState(session);
  return fitParts([
    [`sysmon serve ${url}`, file, tracer, served],
    [`sysmon serve ${url}`, basename(file), tracer, served],
    [url, basename(file), tracer, served],
    [url, tracer, served],
    [url, tracer],
  ], width);
}

function tracerState(session: LiveSession): string {
  const st = session.tracer.status();
  const samples = plural(st.samples, "sample");
  switch (st.state) {
    case "running":
      return `tracing: ${samples}${st.error ? `, write failing: ${terminalSafe(st.error)}` : ""}`;
    case "starting":
      return "tracer starting";
    case "stopping":
      return `tracer stopping (${samples})`;
    case "failed":
      return `tracer failed${st.error ? `: ${terminalSafe(st.error)}` : ""}`;
    case "stopped":
      return `tracing stopped (${samples})`;
    case "idle": {
      const f = session.following;
      if (f === null) return "not tracing";
      return f.problem === null ? "following the file" : `following: ${terminalSafe(f.problem)}`;
    }
  }
}

/**
 * Stops serving within about TRACER_STOP_MS: no new connections; requests still running get
 * DRAIN_MS to finish while the tracer (if serve started it) writes everything and exits, or
 * is killed after TRACER_STOP_MS (its journal keeps what it had written).
 */
async function shutdown(
  server: Deno.HttpServer | null,
  app: DashboardApp,
  session: LiveSession,
): Promise<void> {
  const drain = server ? within(server.shutdown(), DRAIN_MS) : Promise.resolve(true);
  const tracerStop = stopTracer(session);
  await drain;
  await within(app.close(), 1000);
  await tracerStop;
}

async function stopTracer(session: LiveSession): Promise<void> {
  const closing = session.close().catch((err) => {
    console.error(`sysmon serve: stopping the tracer: ${(err as Error).message}`);
  });
  if (!(await within(closing, TRACER_STOP_MS))) {
    const { pid, options } = session.tracer.status();
    if (pid === null) return;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // it exited meanwhile
    }
    console.error(
      `sysmon serve: the tracer did not stop within ${TRACER_STOP_MS / 1000} s and was ` +
        `killed; what it had written is in ${options?.output}.journal (fold it in with ` +
        `sysmon recover ${options?.output})`,
    );
    await within(closing, 1000);
    return;
  }
  const st = session.tracer.status();
  if (st.state === "stopped" || st.state === "failed") {
    console.log(
      `sysmon serve: tracing stopped: ${plural(st.rowsWritten, "sample")} in ` +
        `${st.options?.output}${st.error ? ` (last error: ${st.error})` : ""}`,
    );
  }
}

/** Whether `work` settled within `ms` (it goes on either way). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
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

/** The traces given (`serve A B …`, a file, a directory or a glob; none: DEFAULT_FILE). */
const givenPaths = (opts: ServeOptions) =>
  opts.files && opts.files.length > 0 ? opts.files : [opts.file ?? DEFAULT_FILE];

/** Why serve cannot show one of the traces given, or null. */
function givenProblem(opts: ServeOptions): string | null {
  return givenPaths(opts).map((f) => (isMany(f) ? manyProblem(f) : servedFileProblem(f)))
    .find((p) => p !== null) ?? null;
}

/**
 * The live session and, for several paths or a directory or glob, the traces side by side
 * (once there are several; the file traced from the page, Start, joins them).
 */
function sessionFor(opts: ServeOptions) {
  const traced: { by?: LiveSession } = {};
  const given = givenPaths(opts);
  const compare = opts.file !== null && Comparison.wanted(given)
    ? new Comparison(
      given,
      { warmFirst: chartColumns },
      () => traced.by?.tracer.status().options?.output ?? null,
    )
    : undefined;
  traced.by = new LiveSession({
    file: resolve(compare ? compare.traces()[0]!.spec.path : opts.file ?? DEFAULT_FILE),
    dataDir: opts.dataDir,
    defaults: { sampleInterval: opts.sampleInterval ?? 1, writeInterval: opts.writeInterval ?? 5 },
  });
  return { session: traced.by, compare };
}

/** Why serve cannot show the files a directory or a glob names (none there), or null. */
function manyProblem(path: string): string | null {
  try {
    listTraces(path);
    return null;
  } catch (err) {
    if (!isRefusal(err)) throw err;
    return `${err.message} (serve shows the .parquet and .csv files of a directory or a glob)`;
  }
}
