// `sysmon serve [FILE]`: the dashboard over HTTP until Ctrl-C or SIGTERM.
import { createApp } from "./app.ts";

export interface ServeOptions {
  /** The trace to show; it may not exist yet (the page waits for it). */
  file: string;
  port: number;
  host: string;
  /** Open the page in a browser (xdg-open or open). */
  open: boolean;
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

/** Serves until a signal; returns the exit code (0 after a clean shutdown, 2 when it cannot listen). */
export async function serveCommand(opts: ServeOptions): Promise<number> {
  const app = createApp({ file: opts.file, refreshMs: opts.refreshMs });
  const stop = new AbortController();
  opts.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);

  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: opts.host,
      port: opts.port,
      signal: stop.signal,
      onListen: ({ hostname, port }) => {
        const url = urlFor(hostname, port);
        const exists = fileExists(opts.file);
        console.log(
          `sysmon serve: ${url}\n  data file: ${opts.file}` +
            (exists ? "" : " (not there yet: the page waits for it)"),
        );
        if (hostname !== "127.0.0.1" && hostname !== "::1" && hostname !== "localhost") {
          console.log(
            `  listening on ${hostname}: anyone who can reach this machine can read the trace ` +
              `(there is no authentication)`,
          );
        }
        if (opts.open) void openBrowser(url);
      },
    }, app.fetch);
  } catch (err) {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await app.close();
    const why = err instanceof Deno.errors.AddrInUse
      ? `port ${opts.port} on ${opts.host} is in use; choose another with --port`
      : err instanceof Error
      ? err.message
      : String(err);
    console.error(`sysmon serve: cannot listen: ${why}`);
    return 2;
  }
  await server.finished;
  for (const s of signals) Deno.removeSignalListener(s, onSignal);
  await app.close();
  console.log("sysmon serve: stopped");
  return 0;
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
