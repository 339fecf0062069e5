import assert from "node:assert/strict";
import { Hono } from "hono";
import { LiveSession } from "../src/live/session.ts";
import { liveApi } from "../src/server/routes/live_api.ts";
import { onError } from "../src/server/errors.ts";
import { Refusal } from "../src/schema/refusal.ts";
import { type LiveRow, LiveTracer } from "../src/live/tracer.ts";
import { FileFollower } from "../src/live/follower.ts";
import { journalPath, readJournal } from "../src/store/journal.ts";
import { confineOutputPath } from "../src/store/paths.ts";
import { type WatchChange, watchedValues, WatchEvaluator } from "../src/live/watch.ts";
import { readParquet, spawnSysmon, tempDir, waitFor } from "./helpers.ts";

const OPTS = {
  sampleInterval: 0.2,
  writeInterval: 0.5,
  enableGpu: false,
  enableDocker: false,
  useUtc: false,
};

const micros = (r: Record<string, unknown>) => (r.timestamp as Date).getTime();

Deno.test({
  name:
    "LiveTracer traces in a child, snapshots to name_0/name_1.parquet, and stop writes every sample",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const out = `${dir}/live.parquet`;
    const tracer = new LiveTracer();
    const rows: LiveRow[] = [];
    tracer.subscribe((r) => rows.push(r));
    try {
      const started = await tracer.start({ ...OPTS, output: out });
      assert.equal(started.state, "running");
      assert.ok(started.pid! > 0);
      await assert.rejects(() => tracer.start({ ...OPTS, output: out }), /already tracing/);
      await waitFor(() => rows.length >= 4, 20_000, "4 live rows");
      assert.equal(rows[0]!.sample, 1);
      assert.equal(typeof rows[0]!.row.cpu_busy_percent, "number");
      assert.ok(rows.every((r) => Math.abs(r.lateMs) < 1000 && r.dueMs > 0));

      const seen = rows.length;
      const snap0 = await tracer.snapshot();
      assert.equal(snap0.path, `${dir}/live_0.parquet`);
      assert.ok(snap0.rows >= seen, `snapshot ${snap0.rows} rows, ${seen} seen before`);
      const s0 = await readParquet(snap0.path);
      assert.equal(s0.rows.length, snap0.rows);
      assert.equal(s0.kv.get("sysmon.snapshot_of") ?? "live.parquet", "live.parquet");
      await waitFor(() => rows.length >= snap0.rows + 2, 20_000, "more rows");
      const snap1 = await tracer.snapshot();
      assert.equal(snap1.path, `${dir}/live_1.parquet`);
      assert.ok(snap1.rows > snap0.rows);

      const stopped = await tracer.stop();
      assert.equal(stopped.state, "stopped");
      assert.equal(stopped.exitCode, 0);
      assert.equal(stopped.error, null);
      const final = await readParquet(out);
      assert.equal(final.rows.length, stopped.samples, "every sample the status reported");
      assert.equal(stopped.rowsWritten, stopped.samples);
      assert.equal(rows.length, stopped.samples, "every sample was pushed live");
      assert.deepEqual(
        final.rows.map(micros),
        rows.map((r) => Math.floor((r.row.timestamp as number) / 1000)),
      );
      // Snapshots are prefixes of the final trace.
      assert.deepEqual(s0.rows.map(micros), final.rows.slice(0, s0.rows.length).map(micros));
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
        "live.parquet",
        "live_0.parquet",
        "live_1.parquet",
      ]);
      await assert.rejects(() => tracer.snapshot(), /not tracing/);
    } finally {
      await tracer.stop();
    }
  },
});

Deno.test({
  name: "LiveTracer.reset() keeps the trace so far as the next name_N.parquet and starts afresh",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const out = `${dir}/r.parquet`;
    const tracer = new LiveTracer();
    let n = 0;
    tracer.subscribe(() => n++);
    try {
      await tracer.start({ ...OPTS, output: out });
      await waitFor(() => n >= 3, 20_000, "3 rows");
      const { archived, status } = await tracer.reset();
      assert.equal(archived, `${dir}/r_0.parquet`);
      assert.equal(status.state, "running");
      const kept = await readParquet(archived!);
      assert.ok(kept.rows.length >= 3);
      const before = n;
      await waitFor(() => n >= before + 2, 20_000, "rows after reset");
      const s = await tracer.stop();
      assert.equal((await readParquet(out)).rows.length, s.samples);
      assert.ok(s.samples < n, "the new file holds only the rows since the reset");
    } finally {
      await tracer.stop();
    }
  },
});

Deno.test({
  name: "LiveTracer.start() reports the tracer's refusal (a file sysmon did not write)",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    Deno.writeTextFileSync(`${dir}/other.parquet`, "not parquet at all");
    const tracer = new LiveTracer();
    const err = await tracer.start({ ...OPTS, output: `${dir}/other.parquet` }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof Refusal);
    assert.equal(err.kind, "bad_input");
    assert.match(err.message, /not a readable Parquet file/);
    assert.equal(tracer.status().state, "failed");
    assert.equal(Deno.readTextFileSync(`${dir}/other.parquet`), "not parquet at all");
  },
});

Deno.test("sysmon run --control stops, writing everything, when its stdin closes", async () => {
  const dir = tempDir();
  const out = `${dir}/orphan.parquet`;
  const child = spawnSysmon([
    "run",
    "--control",
    "-o",
    out,
    "--sample-interval",
    "0.2",
    "--no-gpu",
    "--no-docker",
  ], { stdin: "piped", stdout: "piped" });
  const lines: Record<string, unknown>[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(rest.slice(0, nl)));
        rest = rest.slice(nl + 1);
      }
    }
  })();
  await waitFor(() => lines.filter((l) => l.type === "sample").length >= 3, 20_000, "samples");
  assert.equal(lines[0]!.type, "started");
  assert.equal(lines.find((l) => l.type === "sample")!.row, undefined, "rows only if asked");
  await child.stdin.close(); // what happens when the server dies
  const status = await child.status;
  await reading;
  assert.equal(status.code, 0);
  const last = lines.at(-1) as { type: string; status: { samples: number } };
  assert.equal(last.type, "stopped");
  assert.equal((await readParquet(out)).rows.length, last.status.samples);
});

Deno.test("confineOutputPath() keeps outputs inside the data directory", () => {
  const root = tempDir();
  const outside = tempDir();
  Deno.mkdirSync(`${root}/sub`);
  Deno.symlinkSync(outside, `${root}/escape`);
  Deno.symlinkSync(`${outside}/t.parquet`, `${root}/link.parquet`);
  Deno.writeTextFileSync(`${root}/real.parquet`, "");
  Deno.symlinkSync(`${root}/real.parquet`, `${root}/inside.parquet`);
  const real = Deno.realPathSync(root);
  assert.equal(confineOutputPath("a.parquet", root), `${real}/a.parquet`);
  assert.equal(confineOutputPath(" sub/b.csv ", root), `${real}/sub/b.csv`);
  assert.equal(confineOutputPath(`${root}/c.parquet`, root), `${real}/c.parquet`);
  assert.equal(confineOutputPath("inside.parquet", root), `${real}/real.parquet`);
  const refused: [string, RegExp][] = [
    ["../x.parquet", /'\.\.' is not allowed/],
    ["sub/../../x.parquet", /'\.\.' is not allowed/],
    [`${outside}/x.parquet`, /outside the data directory/],
    ["/etc/x.parquet", /outside the data directory/],
    ["escape/x.parquet", /through a symbolic link/],
    ["link.parquet", /symbolic link out of the data directory/],
    ["missing/x.parquet", /does not exist/],
    ["notes.txt", /\.parquet or \.csv/],
    ["", /empty/],
  ];
  for (const [path, why] of refused) {
    assert.throws(
      () => confineOutputPath(path, root),
      (e) => e instanceof Refusal && why.test(e.message),
      path,
    );
  }
  Deno.mkdirSync(`${root}/dir.parquet`);
  assert.throws(() => confineOutputPath("dir.parquet", root), /is a directory/);
});

Deno.test("POST /api/trace/start refuses an output outside the data directory, with the message", async () => {
  const dir = tempDir();
  const session = new LiveSession({ file: `${dir}/t.parquet` });
  const app = new Hono().onError(onError).route("/", liveApi(session));
  const r = await app.request("/api/trace/start", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ output: "../../etc/evil.parquet" }),
  });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /'\.\.' is not allowed/);
  assert.equal((await (await app.request("/api/trace/status")).json()).state, "idle");
});

Deno.test("WatchEvaluator with `for` 0 fires once per upward crossing and re-arms at or below", () => {
  const w = new WatchEvaluator({ cpu: 90, threads: 1000 }, 0);
  const cpu = [50, 95, 97, null, 90, 91.04, 91, 20];
  const changes = cpu.map((v, i) =>
    w.evaluate({ cpu_busy_percent: v, system_thread_count: 500 }, 1000 * i)
  );
  const fired = (list: WatchChange[]) => list.filter((c) => c.kind === "fire");
  assert.deepEqual(changes.map((f) => fired(f).map((c) => c.name)), [
    [],
    ["CPU% > 90 (now 95.0)"],
    [],
    [],
    [],
    ["CPU% > 90 (now 91.0)"],
    [],
    [],
  ]);
  // Each firing ends where the value went back: one event with a start and an end.
  assert.deepEqual(
    changes.flat().map((c) => [c.kind, c.start, c.kind === "clear" ? c.end : c.at]),
    [
      ["fire", 1000, 1000],
      ["clear", 1000, 4000],
      ["fire", 5000, 5000],
      ["clear", 5000, 7000],
    ],
  );
  // Threads crossing, memory from sys_used / sys_total, the original tool's per-core columns.
  const m = new WatchEvaluator({ threads: 1000, mem: 50, processes: 10 }, 0);
  assert.deepEqual(
    fired(m.evaluate(
      { system_thread_count: 1200n, sys_used: 6, sys_total: 10, system_process_count: 5 },
      0,
    )).map((c) => c.name),
    ["Mem% > 50 (now 60.0)", "Threads > 1000 (now 1200)"],
  );
  assert.deepEqual(
    watchedValues({ cpu_0_utilization: 50, cpu_1_utilization: 100 }).map((v) => v.value),
    [75],
  );
  // Each GPU crosses on its own; memory % from used / total.
  const g = new WatchEvaluator({ gpu_util: 80, gpu_mem: 90 }, 0);
  const gpuRow = (u0: number, u1: number, used1: number) => ({
    gpu_0_utilization: u0,
    gpu_1_utilization: u1,
    gpu_0_used: 1,
    gpu_0_total: 10,
    gpu_1_used: used1,
    gpu_1_total: 100,
  });
  assert.deepEqual(fired(g.evaluate(gpuRow(85, 10, 50), 0)).map((c) => c.name), [
    "GPU0 util% > 80 (now 85.0)",
  ]);
  assert.deepEqual(fired(g.evaluate(gpuRow(99, 81, 95), 1000)).map((c) => c.name), [
    "GPU1 util% > 80 (now 81.0)",
    "GPU1 mem% > 90 (now 95.0)",
  ]);
  // A changed threshold re-arms its series only: those firing end at their last sample.
  assert.deepEqual(
    g.configure({ gpu_util: 50, gpu_mem: 90 }).map((c) => [c.series, c.start, c.end]),
    [["gpu_util:0", 0, 1000], ["gpu_util:1", 1000, 1000]],
  );
  assert.deepEqual(fired(g.evaluate(gpuRow(99, 81, 95), 2000)).map((c) => c.name), [
    "GPU0 util% > 50 (now 99.0)",
    "GPU1 util% > 50 (now 81.0)",
  ]);
});

Deno.test({
  name: "watch points turn live rows, and rows another sysmon run writes, into auto events",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    // Live: every sample has more than 1 thread, so exactly one crossing.
    const session = new LiveSession({ file: `${dir}/live.parquet`, defaults: OPTS });
    session.setWatch({ thresholds: { threads: 1 }, forSeconds: 0 });
    let rows = 0;
    session.subscribe(() => rows++);
    try {
      await session.start({});
      await waitFor(() => rows >= 4, 20_000, "live rows");
      await session.stop();
    } finally {
      await session.close();
    }
    const live = session.events.list();
    assert.equal(live.length, 1);
    assert.equal(live[0]!.kind, "auto");
    assert.match(live[0]!.name, /^Threads > 1 \(now \d+\)$/);
    // one firing: stopping ends it at the last sample, and the file keeps the end
    assert.ok(live[0]!.end! > live[0]!.at, JSON.stringify(live[0]));
    assert.match(
      Deno.readTextFileSync(`${dir}/live.parquet.events.csv`),
      /^event,timestamp,kind,end\n.*,auto,\d{4}-.*Z\n$/,
    );

    // Followed: a separate `sysmon run` writes the file; the session only watches it.
    const other = `${dir}/other.parquet`;
    const followed = new LiveSession({ file: other, followIntervalMs: 100 });
    followed.setWatch({ thresholds: { processes: 1 }, forSeconds: 0 });
    let seen = 0;
    followed.subscribe(() => seen++);
    await followed.follow();
    const run = spawnSysmon([
      "run",
      "-o",
      other,
      "--sample-interval",
      "0.2",
      "--write-interval",
      "0.3",
      "--duration",
      "2",
      "--no-gpu",
      "--no-docker",
      "-q",
    ]);
    try {
      assert.equal((await run.status).code, 0);
      await waitFor(() => seen >= 10, 10_000, "followed rows");
    } finally {
      await followed.close();
    }
    const auto = followed.events.list();
    assert.equal(auto.length, 1);
    assert.match(auto[0]!.name, /^Processes > 1 \(now \d+\)$/);
    const first = (await readParquet(other)).rows[0]!;
    // The event carries the sample's own time (naive local wall time read in this zone).
    const offset = new Date(auto[0]!.at).getTimezoneOffset() * 60_000;
    assert.ok(Math.abs(auto[0]!.at - (micros(first) + offset)) < 1000);
  },
});

Deno.test({
  name:
    "the trace routes start tracing, push rows as server-sent events, reset with the events, stop",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    const session = new LiveSession({ file: `${dir}/served.parquet`, defaults: OPTS });
    const app = new Hono().onError(onError).route("/", liveApi(session));
    const post = (path: string, body: unknown = {}) =>
      app.request(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    try {
      let r = await post("/api/trace/start", { output: "web.parquet", sampleInterval: 0.2 });
      assert.equal(r.status, 200, await r.clone().text());
      const started = await r.json();
      assert.equal(started.state, "running");
      assert.equal(started.file, `${Deno.realPathSync(dir)}/web.parquet`);
      assert.equal(started.options.sampleInterval, 0.2);
      assert.equal(started.options.writeInterval, 0.5, "the session's default");
      assert.equal((await post("/api/trace/start")).status, 409);

      const sse = await app.request("/api/trace/rows");
      assert.equal(sse.headers.get("content-type"), "text/event-stream");
      const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!/event: row\ndata: (.*)\n/.test(text)) text += (await reader.read()).value ?? "";
      const pushed = JSON.parse(/event: row\ndata: (.*)\n/.exec(text)![1]!);
      assert.equal(typeof pushed.row.cpu_busy_percent, "number");
      assert.ok(pushed.sample >= 1 && typeof pushed.lateMs === "number");
      await reader.cancel();

      assert.equal((await post("/api/events", { name: "before reset" })).status, 201);
      r = await post("/api/trace/reset");
      const reset = await r.json();
      assert.equal(reset.archived, `${Deno.realPathSync(dir)}/web_0.parquet`);
      assert.equal(reset.state, "running");
      assert.deepEqual((await (await app.request("/api/events")).json()).events, []);
      assert.match(
        Deno.readTextFileSync(`${dir}/web_0.parquet.events.csv`),
        /before reset,.*,manual/,
      );
      let rows = 0;
      const off = session.subscribe(() => rows++);
      await waitFor(() => rows >= 2, 20_000, "rows after the reset");
      off();
      r = await post("/api/trace/snapshot");
      assert.equal(r.status, 200);
      assert.equal((await r.json()).path, `${Deno.realPathSync(dir)}/web_1.parquet`);
      r = await post("/api/trace/stop");
      const stopped = await r.json();
      assert.equal(stopped.state, "stopped");
      assert.equal(stopped.following, true, "after stop the file is followed");
      assert.equal((await readParquet(`${dir}/web.parquet`)).rows.length, stopped.samples);
      assert.equal((await post("/api/trace/snapshot")).status, 409);
    } finally {
      await session.close();
    }
  },
});

Deno.test("a follower passes on the rows a killed tracer left only in its journal", async () => {
  const out = `${tempDir()}/killed.parquet`;
  const child = spawnSysmon([
    "run",
    "-o",
    out,
    "--sample-interval",
    "0.2",
    "--write-interval",
    "0.4",
    "--no-gpu",
    "--no-docker",
    "--top-processes",
    "0",
    "-q",
  ]);
  await waitFor(() => (readJournal(journalPath(out))?.rows.length ?? 0) >= 8, 20_000, "journal");
  child.kill("SIGKILL");
  await child.status;
  const fileRows = (await readParquet(out)).rows.length;
  const journal = readJournal(journalPath(out))!.rows.filter((r) => r.seq >= fileRows);
  assert.ok(journal.length > 0, "the journal holds rows the file does not");
  const follower = new FileFollower(out);
  const seen: number[] = [];
  follower.subscribe((r) => seen.push(r.at));
  await follower.start();
  follower.stop();
  assert.equal(seen.length, journal.length);
  assert.ok(seen.every((t, i) => i === 0 || t > seen[i - 1]!));
});

Deno.test({
  name: "a follower reads each byte of a growing journal once (by offset), and every row",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = `${tempDir()}/growing.parquet`;
    const child = spawnSysmon([
      "run",
      "-o",
      out,
      "--sample-interval",
      "0.1",
      "--write-interval",
      "0.2",
      "--fold-interval",
      "300",
      "--no-gpu",
      "--no-docker",
      "-q",
    ]);
    try {
      // Past the first write's fold (the journal started over after it): no fold follows.
      const started = () => {
        const rows = readJournal(journalPath(out))?.rows ?? [];
        return rows.length >= 2 && rows[0]!.seq > 0;
      };
      await waitFor(started, 20_000, "the journal after the first fold");
      const follower = new FileFollower(out, { intervalMs: 50 });
      const seen: number[] = [];
      follower.subscribe((r) => seen.push(r.at));
      await follower.start();
      let looks = 0;
      while (looks++ < 40) {
        await new Promise((r) => setTimeout(r, 60));
        await follower.poll();
      }
      child.kill("SIGKILL"); // the journal stays as it is: nothing folded, nothing removed
      await child.status;
      await follower.poll();
      follower.stop();
      const journal = readJournal(journalPath(out))!;
      const size = Deno.statSync(journalPath(out)).size;
      assert.ok(journal.rows.length >= 10, `${journal.rows.length} rows`);
      assert.equal(seen.length, journal.rows.length, "every journaled row, once");
      assert.ok(seen.every((t, i) => i === 0 || t > seen[i - 1]!));
      assert.equal(follower.journal.bytesRead, size, "each byte read once, not the whole per look");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  },
});
