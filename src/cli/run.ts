// What `sysmon run`, `snapshot` and `recover` do on the terminal.
import { monitorToParquet } from "../tracer/monitor.ts";
import { foldIntervalMs, type MonitorOptions } from "../tracer/options.ts";
import { isRefusal } from "../schema/refusal.ts";
import { OutputError, recoverJournal } from "../store/parquet_sink.ts";
import { describeWriteError } from "../store/sink.ts";
import { collectSystemSnapshot } from "../collect/snapshot.ts";
import { processTable, rowToJson, statusLine, summaryLine, writeLogLine } from "./run_status.ts";
import type { ProcessRecord } from "../schema/columns.ts";
import { ProcFs } from "../collect/proc/fs.ts";
import { buildProcTree, procTreeJson, renderProcTree } from "../collect/proctree.ts";
import { jsonLine, terminalSafe } from "../schema/safe_text.ts";
import { LiveLine } from "./live_line.ts";
import { TracerMetrics, withMetrics } from "../tracer/metrics.ts";
import {
  type ListenAddress,
  type MetricsServer,
  parseListen,
  serveMetrics,
} from "../tracer/metrics_http.ts";
import { type AuthConfig, authConfig, TOKEN_ENV } from "../tracer/access.ts";

const encoder = new TextEncoder();
const gone = new Set<unknown>();

/** Writes to stdout or stderr; a reader that went away (`| head`) stops output, not the tracer. */
function put(stream: typeof Deno.stdout | typeof Deno.stderr, s: string) {
  if (gone.has(stream)) return;
  try {
    const bytes = encoder.encode(s);
    let off = 0;
    while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    gone.add(stream);
  }
}
const out = (s: string) => put(Deno.stdout, s);
const err = (s: string) => put(Deno.stderr, s);

/** Why `--output` cannot be written by `run` (a name that is not .parquet or .csv), or null. */
function outputNameProblem(output: string): string | null {
  const lower = output.trim().toLowerCase();
  if (lower === "" || lower.endsWith(".parquet") || lower.endsWith(".csv")) return null;
  return `--output ${terminalSafe(output)}: the name must end in .parquet (Parquet) or .csv ` +
    `(CSV); nothing was written`;
}

/** `run`'s options that only the command line has. */
interface RunUi {
  quiet: boolean;
  foldInterval: number;
  /** --listen: serve /metrics on this address; null: no listener. */
  listen?: string | null;
  /** --token for /metrics (default $SYSMON_TOKEN; generated off loopback). */
  token?: string | null;
  /** --no-auth: no token for /metrics even off loopback. */
  noAuth?: boolean;
}

/**
 * Starts the /metrics listener of --listen; a message and null when it cannot (exit 2). It
 * says where it listens (and the token it made up, even with --quiet).
 */
function startListener(ui: RunUi, metrics: TracerMetrics): MetricsServer | null {
  let auth: AuthConfig;
  let address: ListenAddress;
  try {
    address = parseListen(ui.listen!);
    auth = authConfig({
      host: address.hostname,
      token: ui.token,
      noAuth: ui.noAuth,
      env: Deno.env.get(TOKEN_ENV),
      exposes: "read this machine's metrics, process names included",
    });
  } catch (e) {
    const flag = isRefusal(e) ? "" : `--token (or ${TOKEN_ENV}): `;
    err(`sysmon: ${flag}${(e as Error).message}\n`);
    return null;
  }
  if (auth.warning) err(`sysmon: ${auth.warning}\n`);
  try {
    const server = serveMetrics({ address, auth, render: (f) => metrics.render(f) });
    // A token sysmon made up is said even with --quiet: nobody could scrape without it.
    const given = (ui.token ?? Deno.env.get(TOKEN_ENV) ?? "").trim() !== "";
    const needs = auth.token === null ? "" : ` (send 'Authorization: Bearer ${auth.token}')`;
    if (!ui.quiet || (auth.token !== null && !given)) {
      err(`sysmon: Prometheus metrics on ${server.url}${needs}\n`);
    }
    return server;
  } catch (e) {
    if (!isRefusal(e)) throw e;
    err(`sysmon: ${e.message}\n`);
    return null;
  }
}

/** Runs the tracer; returns the exit code (2 for bad options or output). */
export async function runCommand(opts: MonitorOptions, ui: RunUi): Promise<number> {
  const nameProblem = outputNameProblem(opts.outputFile ?? "system_monitor.parquet");
  if (nameProblem !== null) {
    err(`sysmon: ${nameProblem}\n`);
    return 2;
  }
  const metrics = new TracerMetrics();
  const listener = ui.listen ? startListener(ui, metrics) : null;
  if (ui.listen && listener === null) return 2;
  const ac = new AbortController();
  const stop = () => ac.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // On a terminal one status line, redrawn in place; other lines go above it.
  const line = Deno.stdout.isTerminal() && !ui.quiet ? new LiveLine(out) : null;
  const say = (s: string) => line ? line.print(() => err(s)) : err(s);
  let lastError: string | null = null;
  try {
    const foldMs = foldIntervalMs(ui.foldInterval);
    const summary = await monitorToParquet(
      { ...opts, signal: ac.signal },
      withMetrics(metrics, {
        foldIntervalMs: foldMs,
        onNotice: (m) => !ui.quiet && say(`sysmon: ${m}\n`),
        onSample: (s) => line?.show((width) => statusLine(s, width)),
        onWrite: (s) => {
          // Errors are shown once when they start and once when they clear.
          if (s.error !== lastError) {
            if (s.error) say(`sysmon: write failed: ${s.error}; retrying\n`);
            else if (lastError) say(`sysmon: writing again\n`);
            lastError = s.error;
          }
          if (line) line.show((width) => statusLine(s, width));
          else if (!ui.quiet && !s.error) out(writeLogLine(s) + "\n");
        },
      }),
    );
    line?.end();
    if (!ui.quiet) out(summaryLine(summary) + "\n");
    return summary.error ? 1 : 0;
  } catch (e) {
    line?.end();
    if (isRefusal(e, "bad_input") || e instanceof OutputError) {
      err(`sysmon: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await listener?.close();
  }
}

export async function snapshotCommand(
  opts: { json: boolean; useUtc: boolean; enableGpu: boolean; enableDocker: boolean },
) {
  const row = rowToJson(
    await collectSystemSnapshot({ ...opts, onNotice: (m) => err(`sysmon: ${m}\n`) }),
  );
  if (opts.json) {
    out(jsonLine(row, 2) + "\n");
    return;
  }
  const width = Math.max(...Object.keys(row).map((k) => k.length));
  for (const [k, v] of Object.entries(row)) {
    if (Array.isArray(v)) continue; // the process list comes last, as a table
    const shown = typeof v === "number" && !Number.isInteger(v)
      ? v.toFixed(2)
      : terminalSafe(String(v));
    out(`${k.padEnd(width)}  ${shown}\n`);
  }
  if (Array.isArray(row.processes)) out(processTable(row.processes as ProcessRecord[]));
}

/** `sysmon proctree PID`: exit 1 when no such process is visible. */
export function proctreeCommand(pid: number, opts: { json: boolean; verbose: boolean }): number {
  const result = buildProcTree(new ProcFs(), pid);
  if ("notFound" in result) {
    err(`sysmon: ${result.notFound}\n`);
    return 1;
  }
  out(
    opts.json
      ? jsonLine(procTreeJson(result.tree), 2) + "\n"
      : renderProcTree(result.tree, { verbose: opts.verbose }),
  );
  return 0;
}

export function recoverCommand(file: string): number {
  try {
    const notices = recoverJournal(file);
    out(
      notices.length
        ? notices.map((n) => `sysmon: ${n}\n`).join("")
        : `sysmon: no journal beside ${file}\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof OutputError) {
      err(`sysmon: ${e.message}\n`);
      return 2;
    }
    // Disk full, permissions, a file that is not a trace: a message, never a stack trace.
    // The journal is removed only after a successful fold, so it is still there to retry.
    err(`sysmon: recover failed: ${describeWriteError(file, e)}; the journal is kept\n`);
    return 1;
  }
}
