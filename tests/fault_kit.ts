// Shared by the fault tests: a real `sysmon serve` started and stopped, its descriptors,
// a small tmpfs filled to the last byte.
import assert from "node:assert/strict";
import { MAIN, readParquet, spawnSysmon, sysmon, tempDir, waitFor } from "./helpers.ts";

/** How long serve may take to exit after SIGTERM, in every state. */
export const EXIT_MS = 8000;

/** Runs `sysmon ARGS` to completion, killed after 30 s (a hang fails instead of waiting). */
export async function runBounded(args: string[], cwd?: string) {
  const child = spawnSysmon(args, { cwd, stdout: "piped", stderr: "piped", stdin: "null" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

export function mkfifo(path: string) {
  const r = new Deno.Command("mkfifo", { args: [path] }).outputSync();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

/** A real `sysmon serve` on a free port, up to the line that names its data file. */
export async function startServe(
  args: string[],
  opts: { cwd?: string; prefix?: string[]; hangMs?: number } = {},
) {
  const child = opts.prefix
    ? new Deno.Command(opts.prefix[0]!, {
      args: [...opts.prefix.slice(1), Deno.execPath(), "run", "-A", MAIN, "serve", ...args],
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn()
    : spawnSysmon(["serve", ...args], {
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  const hang = setTimeout(() => child.kill("SIGKILL"), opts.hangMs ?? 60_000);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/data file: .*\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
  assert.ok(url, `serve printed no URL: ${out}`);
  const err = new Response(child.stderr).text();
  /** Sends SIGTERM (then `more` signals) and waits at most EXIT_MS for the exit. */
  const stop = async (...more: Deno.Signal[]) => {
    const sent = Date.now();
    child.kill("SIGTERM");
    for (const s of more) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        child.kill(s);
      } catch {
        // it has exited already
      }
    }
    const late = setTimeout(() => child.kill("SIGKILL"), EXIT_MS);
    const status = await child.status;
    clearTimeout(late);
    clearTimeout(hang);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const ms = Date.now() - sent;
    assert.ok(status.signal !== "SIGKILL", `serve did not exit within ${EXIT_MS} ms of SIGTERM`);
    return { code: status.code, ms, out, stderr: await err };
  };
  return { child, url, out, stop };
}

/** `sysmon serve` with no file, tracing this machine at 0.2 s (1 s writes) in `dir`. */
export function startLiveServe(dir: string, hangMs?: number) {
  return startServe(
    ["--port", "0", "--sample-interval", "0.2", "--write-interval", "1"],
    { cwd: dir, hangMs },
  );
}

/** A short real trace, made once. */
let traceMade: Promise<string> | null = null;
export function smallTrace(): Promise<string> {
  traceMade ??= (async () => {
    const file = `${tempDir()}/t.parquet`;
    const r = await sysmon([
      "run",
      "-o",
      file,
      "--sample-interval",
      "0.2",
      "--write-interval",
      "1",
      "--duration",
      "3",
      "--no-gpu",
      "--no-docker",
    ]);
    assert.equal(r.code, 0, r.stderr);
    return file;
  })();
  return traceMade;
}

export async function get(url: string) {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

export function noStackTrace(text: string) {
  assert.doesNotMatch(text, /Uncaught|^\s+at /m, text);
}

export function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** Mounts a tmpfs of `size` on a new dir, or null when this process may not (not root). */
export async function smallTmpfs(size: string): Promise<string | null> {
  const dir = tempDir();
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "null",
    stdout: "null",
  }).output().catch(() => null);
  return r?.success ? dir : null;
}

export async function unmount(dir: string) {
  await new Deno.Command("umount", { args: ["-l", dir] }).output();
}

/** Writes `path` until the disk is full; returns the bytes written. */
export function fillDisk(path: string): number {
  const f = Deno.openSync(path, { write: true, create: true });
  let n = 0;
  try {
    for (const size of [64 << 10, 4 << 10, 512, 1]) {
      try {
        while (true) n += f.writeSync(new Uint8Array(size));
      } catch (err) {
        if (!/os error 28|No space/.test((err as Error).message)) throw err;
      }
    }
  } finally {
    f.close();
  }
  return n;
}

/** A dir holding an `nvidia-smi` that prints `line` every 0.2 s for --query-gpu. */
export function smiPrinting(line: string): string {
  return smiRunning(`while :; do echo '${line}'; sleep 0.2; done`);
}

/** A dir holding an `nvidia-smi` that runs shell `script` for --query-gpu. */
export function smiRunning(script: string): string {
  const dir = tempDir();
  Deno.writeTextFileSync(
    `${dir}/nvidia-smi`,
    `#!/bin/sh\ncase "$*" in\n  *--query-gpu=*) ${script};;\n` +
      `  *) while :; do sleep 1; done;;\nesac\n`,
  );
  Deno.chmodSync(`${dir}/nvidia-smi`, 0o755);
  return dir;
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const dec = new TextDecoder();
  for await (const chunk of stream) into.push(dec.decode(chunk, { stream: true }));
}

/**
 * `sysmon run` at 0.2 s with 1 s writes into `mnt`; after its first write the disk is filled
 * to the last byte for 3 s, then freed; SIGTERM 1.5 s after writes resume.
 */
export async function fillAndFree(mnt: string) {
  const out = `${mnt}/t.parquet`;
  const child = spawnSysmon(
    ["run", "-o", out, "--sample-interval", "0.2", "--write-interval", "1", "--no-gpu"],
    { stdout: "piped", stderr: "piped", env: { DOCKER_HOST: `unix://${mnt}/none.sock` } },
  );
  const stdout: string[] = [], stderr: string[] = [];
  const reading = Promise.all([collect(child.stdout, stdout), collect(child.stderr, stderr)]);
  await waitFor(() => stdout.join("").includes("wrote"), 20_000, "a first write");
  fillDisk(`${mnt}/filler`);
  await waitFor(() => stderr.join("").includes("disk full"), 10_000, "a disk-full notice");
  await new Promise((r) => setTimeout(r, 3000)); // samples pile up while the disk is full
  Deno.removeSync(`${mnt}/filler`);
  await waitFor(() => stderr.join("").includes("writing again"), 10_000, "writes resuming");
  await new Promise((r) => setTimeout(r, 1500));
  child.kill("SIGTERM");
  const status = await child.status;
  await reading;
  const samples = Number(/(\d+) samples/.exec(stdout.join(""))?.[1] ?? 0);
  const rows = (await readParquet(out)).rows.length;
  return { code: status.code, samples, rows, stderr: stderr.join("") };
}
