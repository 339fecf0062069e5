// sysmon's command line: parses arguments and dispatches; the work lives in tracer/ and web/.
import { Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { VERSION } from "./tracer/metadata.ts";

const seconds = (flag: string) => (text: string) => {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`${flag} must be a number of seconds.`);
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
      .default(60).argParser(seconds("--fold-interval")),
  )
  .option("--utc", "record timestamps in UTC instead of local time", false)
  .option("--no-gpu", "do not sample GPUs (never starts nvidia-smi)")
  .option("--no-docker", "do not sample containers (never touches the Docker socket)")
  .option("-q, --quiet", "print only errors", false)
  .action(async (opts) => {
    const { runCommand } = await import("./tracer/run_command.ts");
    Deno.exitCode = await runCommand({
      outputFile: opts.output,
      sampleInterval: opts.sampleInterval,
      writeInterval: opts.writeInterval,
      duration: opts.duration,
      useUtc: opts.utc,
      enableGpu: opts.gpu,
      enableDocker: opts.docker,
    }, { quiet: opts.quiet, foldInterval: opts.foldInterval });
  });

program.command("snapshot")
  .description("Take one sample and print it (a row of the trace).")
  .option("--json", "print JSON with the same keys as a row", false)
  .option("--utc", "timestamp in UTC", false)
  .option("--no-gpu", "do not sample GPUs")
  .option("--no-docker", "do not sample containers")
  .action(async (opts) => {
    const { snapshotCommand } = await import("./tracer/run_command.ts");
    await snapshotCommand({
      json: opts.json,
      useUtc: opts.utc,
      enableGpu: opts.gpu,
      enableDocker: opts.docker,
    });
  });

program.command("recover")
  .description("Fold the journal a killed `sysmon run` left beside FILE into FILE.")
  .argument("<file>", "the trace (.parquet) whose FILE.journal to fold in")
  .action(async (file) => {
    const { recoverCommand } = await import("./tracer/run_command.ts");
    Deno.exitCode = recoverCommand(file);
  });

try {
  await program.parseAsync(Deno.args, { from: "user" });
} catch (err) {
  if (err instanceof CommanderError) {
    Deno.exit(err.exitCode === 0 ? 0 : 2);
  }
  throw err;
}
