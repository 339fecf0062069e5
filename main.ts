// sysmon's command line: parses arguments and dispatches to src/cli/, one module per command.
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { VERSION } from "./src/store/metadata.ts";
import { dropExecutablePages } from "./src/store/release.ts";
import { unknownCommand } from "./src/cli/commands.ts";

// Decimal seconds only: Number() alone would take "0x10" as 16.
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const seconds = (flag: string) => (text: string) => {
  const n = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`${flag} must be a number of seconds.`);
  }
  return n;
};

const wholeNumber = (what: string, min: number) => (text: string) => {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(
      `${what} must be a whole number${min > 0 ? ` from ${min}` : ""}.`,
    );
  }
  return n;
};

const program = new Command()
  .name("sysmon")
  .description("System tracer and dashboard: /proc, GPUs and containers to Parquet.")
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError();

program.command("run", { isDefault: true })
  .description("Trace this machine into a Parquet (or .csv) file until Ctrl-C or --duration.")
  .option(
    "-o, --output <file>",
    "output file (.parquet, or .csv for CSV)",
    "system_monitor.parquet",
  )
  .addOption(
    new Option("--sample-interval <s>", "seconds between samples (min 0.1)")
      .default(5).argParser(seconds("--sample-interval")),
  )
  .addOption(
    new Option("--write-interval <s>", "seconds between writes to disk")
      .default(10).argParser(seconds("--write-interval")),
  )
  .addOption(
    new Option("--duration <s>", "stop after this many seconds").argParser(seconds("--duration")),
  )
  .addOption(
    new Option("--fold-interval <s>", "seconds between folds of the journal into the Parquet file")
      .default(300).argParser(seconds("--fold-interval")),
  )
  .option("--utc", "record timestamps in UTC instead of local time", false)
  .option("--no-gpu", "do not sample GPUs (never starts nvidia-smi)")
  .option("--no-docker", "do not sample containers (never touches the Docker socket)")
  .option("-q, --quiet", "print only errors", false)
  .addOption(
    new Option(
      "--top-processes <n>",
      "processes kept per sample, top N by CPU and by memory (0: off)",
    )
      .default(10).argParser(wholeNumber("--top-processes", 0)),
  )
  .option(
    "--listen <address>",
    "serve /metrics for Prometheus on HOST:PORT (a port alone: loopback; not loopback: a token)",
  )
  .option(
    "--token <token>",
    "token /metrics needs off loopback (default: $SYSMON_TOKEN, or random)",
  )
  .option(
    "--no-auth",
    "no token for /metrics even off loopback (anyone who reaches the port reads it)",
  )
  .addOption(
    new Option("--control [mode]", "driven over stdin/stdout JSON lines ('rows': every row)")
      .hideHelp(),
  )
  .action(async (opts) => {
    const monitor = {
      outputFile: opts.output,
      sampleInterval: opts.sampleInterval,
      writeInterval: opts.writeInterval,
      duration: opts.duration,
      useUtc: opts.utc,
      enableGpu: opts.gpu,
      enableDocker: opts.docker,
      topProcesses: opts.topProcesses,
    };
    dropExecutablePages(); // start-up's, before the tracer's modules load: a lower peak
    if (opts.control) {
      const { controlCommand } = await import("./src/tracer/control.ts");
      const ui = { foldInterval: opts.foldInterval, rows: opts.control === "rows" };
      Deno.exitCode = await controlCommand(monitor, ui);
      return;
    }
    const { runCommand } = await import("./src/cli/run.ts");
    const ui = {
      quiet: opts.quiet,
      foldInterval: opts.foldInterval,
      listen: opts.listen ?? null,
      token: opts.token ?? null,
      noAuth: !opts.auth,
    };
    Deno.exitCode = await runCommand(monitor, ui);
  });

program.command("snapshot")
  .description("Take one sample and print it (a row of the trace).")
  .option("--json", "print JSON with the same keys as a row", false)
  .option("--utc", "timestamp in UTC", false)
  .option("--no-gpu", "do not sample GPUs")
  .option("--no-docker", "do not sample containers")
  .action(async (opts) => {
    const { snapshotCommand } = await import("./src/cli/run.ts");
    await snapshotCommand({
      json: opts.json,
      useUtc: opts.utc,
      enableGpu: opts.gpu,
      enableDocker: opts.docker,
    });
  });

program.command("proctree")
  .description("Print the processes under PID as a tree, with threads and a summary by command.")
  .argument("<pid>", "process id", wholeNumber("PID", 1))
  .option("--json", "print JSON (the original tool's shape, with command lines)", false)
  .option("-v, --verbose", "show command lines", false)
  .action(async (pid, opts) => {
    const { proctreeCommand } = await import("./src/cli/run.ts");
    Deno.exitCode = proctreeCommand(pid, opts);
  });

program.command("recover")
  .description("Fold the journal a killed `sysmon run` left beside FILE into FILE.")
  .argument("<file>", "the trace (.parquet) whose FILE.journal to fold in")
  .action(async (file) => {
    const { recoverCommand } = await import("./src/cli/run.ts");
    Deno.exitCode = recoverCommand(file);
  });

program.command("serve")
  .description(
    "Serve the dashboard until Ctrl-C. Without FILE: trace this machine into " +
      "system_monitor.parquet and show it live; with FILE: show that trace (and follow it " +
      "while another `sysmon run` writes it).",
  )
  .argument(
    "[files...]",
    "trace to show (.parquet or .csv); several (or a directory holding several): side by " +
      "side; none: trace this machine live",
  )
  .option("-d, --datafile <file>", "the same as FILE (the original tool's flag)")
  .addOption(
    new Option("-p, --port <n>", "port to listen on (0: any free port)").default(8050)
      .argParser((text) => {
        const n = wholeNumber("--port", 0)(text);
        if (n > 65535) throw new InvalidArgumentError("--port must be at most 65535.");
        return n;
      }),
  )
  .option(
    "--host <address>",
    "address to listen on (not loopback: a token is required)",
    "127.0.0.1",
  )
  .option("--open", "open the page in a browser", false)
  .option(
    "--token <token>",
    "token clients must send (default: $SYSMON_TOKEN, or random off loopback)",
  )
  .option("--no-auth", "no token even off loopback (anyone who reaches the port can trace)")
  .option("--data-dir <dir>", "outputs typed into the page stay inside it (default: the trace's)")
  .addOption(
    new Option("--sample-interval <s>", "seconds between samples when tracing from serve")
      .default(1).argParser(seconds("--sample-interval")),
  )
  .addOption(
    new Option("--write-interval <s>", "seconds between writes when tracing from serve")
      .default(5).argParser(seconds("--write-interval")),
  )
  .addOption(
    new Option("-i, --interval <s>", "seconds between the page's refreshes (min 1)")
      .default(10).argParser(seconds("--interval")),
  )
  .action(async (files: string[], opts) => {
    const positional = files[0];
    if (positional !== undefined && opts.datafile !== undefined && positional !== opts.datafile) {
      console.error(
        `sysmon serve: two traces given, FILE ${positional} and --datafile ${opts.datafile}; ` +
          "give one",
      );
      Deno.exit(2);
    }
    if (!(opts.interval >= 1)) {
      console.error(`sysmon serve: --interval must be at least 1 second, got ${opts.interval}`);
      Deno.exit(2);
    }
    const file = positional ?? opts.datafile;
    if (typeof WebAssembly === "undefined") {
      // --jitless or --lite-mode (in --v8-flags or DENO_V8_FLAGS): DuckDB-WASM cannot run.
      console.error(
        "sysmon serve: this Deno runs without WebAssembly (--jitless or --lite-mode), which " +
          "the dashboard's queries need; start it without those V8 flags.",
      );
      Deno.exit(2);
    }
    const { serveCommand } = await import("./src/cli/serve.ts");
    let code: number;
    try {
      code = await serveCommand({
        file: file ?? null,
        files: files.length > 1 ? files : undefined,
        port: opts.port,
        host: opts.host,
        open: opts.open,
        token: opts.token ?? null,
        noAuth: !opts.auth,
        dataDir: opts.dataDir,
        sampleInterval: opts.sampleInterval,
        writeInterval: opts.writeInterval,
        refreshMs: opts.interval * 1000,
      });
    } catch (err) {
      console.error(`sysmon serve: ${(err as Error).message}`);
      code = 1;
    }
    // Exits rather than waiting for clients that keep a connection open (serve has stopped).
    Deno.exit(code);
  });

program.command("event")
  .description("Mark an event (NAME) on a running `sysmon serve` (POST /api/events).")
  .argument("<name>", 'what happened, e.g. "deploy started"')
  .option("--at <time>", "when (ISO 8601; without a zone: local time); default now")
  .option("--url <url>", "the server", "http://127.0.0.1:8050")
  .option("--token <token>", "the server's token (default: $SYSMON_TOKEN)")
  .action(async (name, opts) => {
    const { eventCommand } = await import("./src/cli/event.ts");
    Deno.exitCode = await eventCommand({
      name,
      at: opts.at,
      url: opts.url,
      token: opts.token ?? Deno.env.get("SYSMON_TOKEN") ?? null,
    });
  });

// `run` is the default command, so a word that names no command would be taken as run's
// argument ("too many arguments for 'run'"): say what it is instead.
const first = Deno.args[0];
if (first !== undefined && !first.startsWith("-")) {
  const problem = unknownCommand(
    first,
    program.commands.flatMap((c) => [c.name(), ...c.aliases()]),
  );
  if (problem !== null) {
    console.error(problem);
    Deno.exit(2);
  }
}

try {
  await program.parseAsync(Deno.args, { from: "user" });
} catch (err) {
  if (err instanceof CommanderError) {
    Deno.exit(err.exitCode === 0 ? 0 : 2);
  }
  throw err;
}
