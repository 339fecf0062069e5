// Shared by the tests: temporary fixture trees, reading traces back independently.
import { listSegments } from "../src/store/segments.ts";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { copySync } from "./copy.ts";

export const FIXTURE_HOST = new URL("./fixtures/host", import.meta.url).pathname;
export const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A writable copy of a recorded /proc and /sys tree. */
export function fixtureCopy(src = FIXTURE_HOST): { proc: string; sys: string; root: string } {
  const root = Deno.makeTempDirSync({ prefix: "sysmon-fixture-" });
  copySync(src, root);
  return { proc: `${root}/proc`, sys: `${root}/sys`, root };
}

/** Reads a Parquet file with hyparquet (an independent reader). */
/**
 * Reads a trace as hyparquet (an independent reader) sees it: the file, and the segments
 * beside it (`trace.0001.parquet`, …) in order, as `read_parquet('trace.*parquet')` would.
 * meta and kv are the file's own.
 */
export async function readParquet(path: string) {
  const first = await readParquetFile(path);
  for (const s of listSegments(path).filter((s) => s.n > 0)) {
    first.rows.push(...(await readParquetFile(s.path)).rows);
  }
  return first;
}

/** One Parquet file's rows, footer and key-value metadata. */
export async function readParquetFile(path: string) {
  const bytes = Deno.readFileSync(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const meta = parquetMetadata(file);
  const rows = await parquetReadObjects({ file, compressors }) as Record<string, unknown>[];
  const kv = new Map((meta.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
  return { meta, rows, kv };
}

export function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "sysmon-test-" });
}

/** Runs `sysmon` (deno run main.ts) to completion. */
export async function sysmon(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts `sysmon` (deno run main.ts) in the background; its output goes nowhere unless piped. */
export function spawnSysmon(
  args: string[],
  opts: {
    stdin?: "piped" | "null";
    stdout?: "piped" | "null";
    stderr?: "piped" | "null";
    env?: Record<string, string>;
    cwd?: string;
    /** "--v8-flags=…", as an installed `sysmon` passes them. */
    v8Flags?: string;
  } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(opts.v8Flags ? [opts.v8Flags] : []), MAIN, ...args],
    stdin: opts.stdin,
    stdout: opts.stdout ?? "null",
    stderr: opts.stderr ?? "null",
    env: opts.env,
    cwd: opts.cwd,
  }).spawn();
}

/** Waits until `check` is true, polling; fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 20_000, what = "condition") {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const FAKE_SMI = new URL("./fixtures/fake_nvidia_smi.ts", import.meta.url).pathname;

/** A temp dir holding `nvidia-smi`: a shell wrapper that runs the fake with deno. */
export function installFakeNvidiaSmi(): string {
  const dir = Deno.makeTempDirSync({ prefix: "sysmon-fake-smi-" });
  const path = `${dir}/nvidia-smi`;
  Deno.writeTextFileSync(path, `#!/bin/sh\nexec "${Deno.execPath()}" run -A "${FAKE_SMI}" "$@"\n`);
  Deno.chmodSync(path, 0o755);
  return dir;
}
