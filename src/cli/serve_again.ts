// A `sysmon` installed with the tracer's lean V8 flags (TRACER_V8_FLAGS: no optimizing
// compiler; or --lite-mode, as earlier versions of the README said, which also turns off the
// WebAssembly that DuckDB-WASM needs) starts `serve` again with the server's flags: the
// dashboard's queries need the optimizing compilers. This module imports nothing that needs
// WebAssembly.
import { dropExecutablePages } from "../store/release.ts";
import { V8_FLAGS } from "../tracer/v8_flags.ts";
import { sysmonCommand } from "../live/sysmon_command.ts";

const LEAN = ["--lite-mode", "--no-opt", "--no-maglev", "--jitless"];
/** Set in the started server: one started again and still lean stops instead of looping. */
const AGAIN = "SYSMON_SERVE_AGAIN";

/**
 * Whether this process was started with V8 flags that do not suit the server. `deno` is
 * /proc/self/cmdline split at NULs, `args` the script's own arguments (Deno.args): only
 * Deno's flags, before the script, count (a file may be named "--v8-flags=--no-opt").
 */
export function startedLean(deno = readCmdline(), args: readonly string[] = Deno.args): boolean {
  if (typeof WebAssembly === "undefined") return true;
  if (deno.at(-1) === "") deno = deno.slice(0, -1);
  const own = deno.slice(0, Math.max(0, deno.length - args.length - 1)); // less script, args
  return own.some((arg) =>
    arg.startsWith("--v8-flags=") && arg.slice(11).split(",").some((f) => LEAN.includes(f))
  );
}

function readCmdline(): string[] {
  try {
    return Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  } catch {
    return []; // not Linux, or not allowed: run as is
  }
}

/**
 * Runs this `sysmon serve` again in a Deno with WebAssembly, passing its arguments, output
 * and signals through; returns its exit code (2 where that cannot be done).
 */
export async function serveAgain(): Promise<number> {
  if (Deno.build.standalone || Deno.env.get(AGAIN) === "1") {
    console.error(
      "sysmon serve: V8 runs without WebAssembly or without its optimizing compilers " +
        "(--lite-mode, --jitless, --no-opt or --no-maglev, compiled in or in DENO_V8_FLAGS); " +
        "serve needs them. Start it without those flags (deno task demo, or deno task compile).",
    );
    return 2;
  }
  const { cmd, args } = sysmonCommand(V8_FLAGS);
  const at = Deno.args.indexOf("serve");
  args.push(...Deno.args.slice(at < 0 ? 0 : at));
  const child = new Deno.Command(cmd, {
    args,
    env: { [AGAIN]: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  dropExecutablePages(); // this one only waits
  // A terminal's Ctrl-C reaches both processes; the server stops once either way.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (s: Deno.Signal) => () => {
    try {
      child.kill(s);
    } catch {
      // it exited meanwhile
    }
  };
  const handlers = signals.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    return (await child.status).code;
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}
