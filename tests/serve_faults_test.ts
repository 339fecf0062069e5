// `sysmon serve` against bad paths, signals in every state, and many requests: a FIFO, a
// device or a symbolic link loop is refused (at start, and when it takes the served file's
// place), SIGTERM ends it within seconds, and requests do not leak file descriptors.
import assert from "node:assert/strict";
import { confineOutputPath } from "../src/store/paths.ts";
import { Refusal } from "../src/schema/refusal.ts";
import { readParquet, tempDir, waitFor } from "./helpers.ts";
import {
  EXIT_MS,
  fdCount,
  get,
  mkfifo,
  noStackTrace,
  runBounded,
  smallTrace,
  startLiveServe,
  startServe,
} from "./fault_kit.ts";

// ---- bad paths at start

Deno.test("sysmon serve refuses a FIFO, a device, a link loop, a directory and a missing directory (exit 2, no stack trace)", async () => {
  const dir = tempDir();
  mkfifo(`${dir}/fifo.parquet`);
  Deno.symlinkSync(`${dir}/b`, `${dir}/a`);
  Deno.symlinkSync(`${dir}/a`, `${dir}/b`);
  Deno.symlinkSync(`${dir}/nothere.parquet`, `${dir}/dangling.parquet`);
  const cases: [string[], RegExp][] = [
    [[`${dir}/fifo.parquet`], /fifo\.parquet is a FIFO \(named pipe\), not a trace file$/m],
    [[`${dir}/a`], /\/a is a symbolic link loop$/m],
    [[`${dir}/a/x.parquet`], /x\.parquet lies under a symbolic link loop$/m],
    [
      [dir],
      /names no \.parquet or \.csv file .*serve shows the \.parquet and \.csv files of a directory/,
    ],
    [["/dev/zero"], /\/dev\/zero is a character device, not a trace file$/m],
    [["/dev/urandom"], /\/dev\/urandom is a character device, not a trace file$/m],
    [[`${dir}/no/x.parquet`], /x\.parquet does not exist, and its directory .*\/no does not/],
    [[`${dir}/dangling.parquet`], /is a symbolic link to .*nothere\.parquet, which does not exist/],
    [[`${dir}/x.parquet`, "--data-dir", `${dir}/fifo.parquet`], /--data-dir .* is a FIFO/],
    [[`${dir}/x.parquet`, "--data-dir", `${dir}/none`], /--data-dir .*\/none does not exist/],
  ];
  if (Deno.uid() !== 0) { // root reads any file
    Deno.writeTextFileSync(`${dir}/secret.csv`, "timestamp\n");
    Deno.chmodSync(`${dir}/secret.csv`, 0o000);
    cases.push([[`${dir}/secret.csv`], /secret\.csv cannot be read: permission denied/]);
  } else console.log("  (running as root: the permission-denied case is not tried)");
  for (const [args, why] of cases) {
    const r = await runBounded(["serve", "--port", "0", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^sysmon serve: /);
    assert.match(r.stderr, why);
    noStackTrace(r.stderr);
    assert.equal(r.stdout, "");
  }
  // Without FILE serve traces into system_monitor.parquet here: a FIFO there is refused too.
  mkfifo(`${dir}/system_monitor.parquet`);
  const r = await runBounded(["serve", "--port", "0"], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /system_monitor\.parquet is a FIFO \(named pipe\), not a trace file/);
});

Deno.test("confineOutputPath() refuses a FIFO and a link loop as the page's output", () => {
  const dir = tempDir();
  mkfifo(`${dir}/fifo.parquet`);
  Deno.symlinkSync(`${dir}/loop.parquet`, `${dir}/loop.parquet`);
  const cases: [string, RegExp][] = [
    ["fifo.parquet", /'fifo\.parquet' is a FIFO \(named pipe\), not a trace file/],
    ["loop.parquet", /'loop\.parquet' is a symbolic link loop/],
  ];
  for (const [name, why] of cases) {
    assert.throws(
      () => confineOutputPath(name, dir),
      (e) => e instanceof Refusal && why.test(e.message),
    );
  }
});

// ---- bad paths later: the served file's place taken

Deno.test({
  name:
    "serve answers an error, not a hang, when a FIFO, a loop or a device takes the file's place",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const file = `${dir}/t.parquet`; // not there yet: serve waits for it
    const s = await startServe([file, "--port", "0"]);
    mkfifo(file);
    let r = await get(`${s.url}api/meta`);
    assert.equal(r.status, 422);
    assert.match(JSON.parse(r.text).error, /t\.parquet is a FIFO \(named pipe\), not a trace file/);
    assert.equal((await get(s.url)).status, 200); // the page still answers
    Deno.removeSync(file);
    Deno.symlinkSync(file, file);
    r = await get(`${s.url}api/meta`);
    assert.equal(r.status, 422);
    assert.match(JSON.parse(r.text).error, /t\.parquet is a symbolic link loop/);
    Deno.removeSync(file);
    Deno.symlinkSync("/dev/zero", file);
    r = await get(`${s.url}api/meta`);
    assert.equal(r.status, 422);
    assert.match(JSON.parse(r.text).error, /t\.parquet is a character device/);
    // Start from the page into a FIFO: refused, and nothing starts.
    mkfifo(`${dir}/out.parquet`);
    const res = await fetch(`${s.url}api/trace/start`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ output: "out.parquet" }),
      signal: AbortSignal.timeout(15_000),
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /'out\.parquet' is a FIFO/);
    const st = await (await fetch(`${s.url}api/trace/status`)).json();
    assert.equal(st.state, "idle");
    const end = await s.stop();
    assert.equal(end.code, 0);
    noStackTrace(end.stderr);
  },
});

// ---- SIGTERM in every state

Deno.test({
  name: "SIGTERM ends an idle serve within seconds",
  sanitizeResources: false,
  fn: async () => {
    const s = await startServe([await smallTrace(), "--port", "0"]);
    assert.equal((await get(s.url)).status, 200);
    const end = await s.stop();
    assert.equal(end.code, 0);
    assert.match(end.out, /sysmon serve: stopped/);
  },
});

Deno.test({
  name:
    "SIGTERM (and a second signal) end serve while clients hold streams and keep-alive connections",
  sanitizeResources: false,
  fn: async () => {
    const s = await startServe([await smallTrace(), "--port", "0"]);
    // A live stream that never ends, a download started and not read, an idle keep-alive.
    const rows = await fetch(`${s.url}api/trace/rows`);
    assert.equal(rows.status, 200);
    const csv = await fetch(`${s.url}api/export.csv`);
    assert.equal(csv.status, 200);
    assert.equal((await get(`${s.url}api/meta`)).status, 200);
    const end = await s.stop("SIGINT");
    assert.equal(end.code, 0);
    assert.ok(end.ms < EXIT_MS, `${end.ms} ms`);
    await rows.body?.cancel().catch(() => {});
    await csv.body?.cancel().catch(() => {});
  },
});

Deno.test({
  name: "SIGTERM ends serve while it traces live, writes the trace and leaves no tracer behind",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const s = await startLiveServe(dir);
    assert.match(s.out, /tracing this machine every 0.2 s/);
    let st = { samples: 0, pid: 0 };
    const deadline = Date.now() + 20_000;
    while (st.samples < 3 && Date.now() < deadline) {
      st = await (await fetch(`${s.url}api/trace/status`)).json();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(st.samples >= 3, `only ${st.samples} samples`);
    const pid = st.pid;
    const rows = await fetch(`${s.url}api/trace/rows`);
    const reader = rows.body!.getReader();
    await reader.read(); // a row arrived: the stream is live
    const end = await s.stop();
    assert.equal(end.code, 0);
    assert.match(end.out, /tracing stopped: \d+ samples in .*system_monitor\.parquet/);
    const n = Number(/tracing stopped: (\d+) samples/.exec(end.out)![1]);
    assert.equal((await readParquet(`${dir}/system_monitor.parquet`)).rows.length, n);
    await waitFor(() => !alive(pid), 5000, "the tracer to be gone");
    await reader.cancel().catch(() => {});
  },
});

Deno.test({
  name: "SIGTERM ends serve within seconds even when its tracer hangs: the tracer is killed",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const s = await startServe(["--port", "0", "--sample-interval", "0.2"], { cwd: dir });
    const { pid } = await (await fetch(`${s.url}api/trace/status`)).json();
    assert.ok(alive(pid));
    Deno.kill(pid, "SIGSTOP"); // a tracer that never answers
    const end = await s.stop();
    assert.equal(end.code, 0);
    assert.match(end.stderr, /the tracer did not stop within 5 s and was killed/);
    assert.match(end.stderr, /sysmon recover .*system_monitor\.parquet/);
    await waitFor(() => !alive(pid), 5000, "the tracer to be gone");
  },
});

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

// ---- file descriptors

/** The requests of the leak checks: every kind that opens the trace. */
async function requestPaths(url: string): Promise<string[]> {
  const meta = await (await fetch(`${url}api/meta`)).json();
  assert.ok(meta.rows > 0 && meta.first !== null, JSON.stringify(meta));
  return [
    "api/series?columns=cpu_busy_percent",
    "tab/cpu/panel",
    "api/export.csv",
    `api/processes?at=${meta.first}`,
    "",
    "tab/overview/panel",
    "api/meta",
  ];
}

Deno.test({
  name: "serve's open descriptors stay level over 120 requests",
  sanitizeResources: false,
  fn: async () => {
    const s = await startServe([await smallTrace(), "--port", "0"]);
    const paths = await requestPaths(s.url);
    for (const p of paths) assert.equal((await get(`${s.url}${p}`)).status, 200, p);
    const before = fdCount(s.child.pid); // spawnSysmon's child is the server itself
    for (let i = 0; i < 120; i++) {
      const p = paths[i % paths.length]!;
      assert.equal((await get(`${s.url}${p}`)).status, 200, p);
    }
    const after = fdCount(s.child.pid);
    assert.ok(after - before <= 10, `descriptors went from ${before} to ${after}`);
    assert.equal((await s.stop()).code, 0);
  },
});

function hasPrlimit(): boolean {
  try {
    return new Deno.Command("prlimit", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const PRLIMIT = hasPrlimit();
if (!PRLIMIT) {
  console.log("prlimit (util-linux) is not installed: the descriptor limit test is skipped");
}

Deno.test({
  name: "serve under a limit of 200 descriptors answers 300 requests and stays up",
  sanitizeResources: false,
  ignore: !PRLIMIT,
  fn: async () => {
    const s = await startServe([await smallTrace(), "--port", "0"], {
      prefix: ["prlimit", "--nofile=200"],
    });
    const paths = await requestPaths(s.url);
    for (let i = 0; i < 300; i++) {
      const p = paths[i % paths.length]!;
      assert.equal((await get(`${s.url}${p}`)).status, 200, `request ${i}: ${p}`);
    }
    const status = await Promise.race([
      s.child.status,
      new Promise((r) => setTimeout(() => r("running"), 100)),
    ]);
    assert.equal(status, "running");
    assert.equal((await s.stop()).code, 0);
  },
});
