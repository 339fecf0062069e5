import assert from "node:assert/strict";
import { parquetSchema } from "hyparquet";
import { parseMeminfo } from "../src/collect/proc/parse.ts";
import { summaryLine } from "../src/cli/run_status.ts";
import { Journal } from "../src/store/journal.ts";
import { MAIN, readParquet, spawnSysmon, sysmon, tempDir, waitFor } from "./helpers.ts";

Deno.test("sysmon run writes a Parquet file with every column and sane values", async () => {
  const dir = tempDir();
  const out = `${dir}/trace.parquet`;
  const r = await sysmon([
    "run",
    "--output",
    out,
    "--sample-interval",
    "0.2",
    "--write-interval",
    "0.5",
    "--duration",
    "2",
    "--no-gpu",
    "--no-docker",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote \d+ rows to/);
  // 10 on time; a sample due while the machine is too loaded to take it is skipped (and said).
  const said = Number(/sysmon: (\d+) samples/.exec(r.stdout)?.[1]);
  assert.ok(said >= 7 && said <= 10, r.stdout);
  const { rows, kv, meta } = await readParquet(out);
  assert.equal(rows.length, said);
  const memTotal = parseMeminfo(Deno.readTextFileSync("/proc/meminfo")).get("MemTotal")!;
  const names = meta.schema.slice(1).map((e) => e.name);
  for (
    const c of [
      "timestamp",
      "sys_total",
      "sys_used",
      "sys_free",
      "cpu_0_utilization",
      "total_open_files",
      "max_files_process",
      "max_files_count",
      "fd_used",
      "fd_max",
      "fd_usage_percent",
      "disk_read_bytes",
      "disk_busy_time_per_sec",
      "net_dropout_per_sec",
      "system_process_count",
      "system_thread_count",
      "load_1m",
      "psi_io_full_avg10_percent",
      "swap_in_bytes_per_sec",
      "disk_util_percent",
    ]
  ) {
    assert.ok(names.includes(c), `missing column ${c}`);
  }
  const cores = names.filter((n) => /^cpu_\d+_utilization$/.test(n));
  assert.equal(cores.length, navigator.hardwareConcurrency);
  for (const row of rows) {
    assert.equal(row.sys_total, BigInt(memTotal));
    for (const c of cores) {
      const v = row[c] as number;
      assert.ok(v >= 0 && v <= 100, `${c}=${v}`);
    }
    assert.ok((row.system_process_count as bigint) > 0n);
    assert.equal(typeof row.net_bytes_recv_per_sec, "number", "rates from the first row on");
  }
  const ts = rows.map((r) => (r.timestamp as Date).getTime());
  // In time order, no hole wider than two intervals past a skipped one, one interval apart on
  // average (a sample taken late on a loaded machine is closer to the next).
  for (let i = 1; i < ts.length; i++) {
    const gap = ts[i]! - ts[i - 1]!;
    assert.ok(gap > 0 && gap < 650, `gap ${gap} ms`);
  }
  const mean = (ts.at(-1)! - ts[0]!) / (ts.length - 1);
  assert.ok(mean > 150 && mean < 350, `${mean} ms apart on average`);
  // Local wall time, stored naive, with the zone in the metadata.
  const offsetMs = new Date().getTimezoneOffset() * 60_000;
  assert.ok(Math.abs(ts.at(-1)! - offsetMs - Date.now()) < 30_000);
  assert.equal(kv.get("sysmon.timezone"), "local");
  assert.equal(kv.get("sysmon.tz_name"), Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.equal(kv.get("sysmon.host"), Deno.hostname());
  assert.equal(
    meta.schema[1]!.logical_type?.type === "TIMESTAMP" &&
      meta.schema[1]!.logical_type.isAdjustedToUTC,
    false,
  );
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["trace.parquet"]);
});

Deno.test("sysmon run --utc records UTC instants and says so", async () => {
  const out = `${tempDir()}/utc.parquet`;
  const r = await sysmon([
    "run",
    "-o",
    out,
    "--sample-interval",
    "0.2",
    "--write-interval",
    "1",
    "--duration",
    "0.6",
    "--utc",
    "--quiet",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "", "--quiet prints nothing on success");
  const { rows, kv, meta } = await readParquet(out);
  assert.equal(kv.get("sysmon.timezone"), "UTC");
  const lt = meta.schema[1]!.logical_type;
  assert.ok(lt?.type === "TIMESTAMP" && lt.isAdjustedToUTC);
  assert.ok(Math.abs((rows.at(-1)!.timestamp as Date).getTime() - Date.now()) < 30_000);
});

Deno.test("sysmon run rejects bad values before sampling, naming the flag", async () => {
  const dir = tempDir();
  const fifo = `${tempDir()}/fifo.parquet`;
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  const cases: [string[], RegExp][] = [
    [["--sample-interval", "0"], /--sample-interval must be at least 0.1/],
    [["--sample-interval", "-2"], /--sample-interval/],
    [["--sample-interval", "abc"], /--sample-interval must be a number/],
    [["--write-interval", "0"], /--write-interval must be more than 0/],
    [["--duration", "-5"], /--duration must be more than 0/],
    [["--output", `${dir}/missing/x.parquet`], /--output: directory .*missing does not exist/],
    [["--output", `${MAIN}/x.parquet`], /--output: .* is not a directory/],
    [["--sample-interval", "0x10"], /--sample-interval must be a number/],
    [["--duration", "1e"], /--duration must be a number/],
    [["--output", fifo], /--output: .*fifo\.parquet is not a regular file/],
  ];
  for (const [args, msg] of cases) {
    const r = await sysmon(["run", "-o", `${dir}/t.parquet`, ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written");
});

Deno.test("sysmon run stops on SIGTERM with a final write holding every sample", async () => {
  const dir = tempDir();
  const out = `${dir}/t.parquet`;
  const child = spawnSysmon([
    "run",
    "-o",
    out,
    "--sample-interval",
    "0.1",
    "--write-interval",
    "60",
  ], { stdout: "piped", stderr: "piped" });
  await waitFor(
    () => {
      try {
        return Deno.statSync(`${out}.journal`).size > 0;
      } catch {
        return false;
      }
    },
    20_000,
    "the journal",
  );
  await new Promise((r) => setTimeout(r, 700));
  child.kill("SIGTERM");
  const res = await child.output();
  const stdout = new TextDecoder().decode(res.stdout);
  assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
  const samples = Number(/sysmon: (\d+) samples/.exec(stdout)?.[1]);
  assert.ok(samples >= 3, stdout);
  assert.equal((await readParquet(out)).rows.length, samples);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["t.parquet"]);
});

Deno.test("sysmon run appends to its own trace and refuses a file it did not write", async () => {
  const dir = tempDir();
  const out = `${dir}/t.parquet`;
  const args = ["run", "-o", out, "--sample-interval", "0.2", "--duration", "0.4", "-q"];
  assert.equal((await sysmon(args)).code, 0);
  assert.equal((await sysmon(args)).code, 0);
  const { rows } = await readParquet(out);
  assert.equal(rows.length, 4);
  const ts = rows.map((r) => (r.timestamp as Date).getTime());
  assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
  const utc = await sysmon([...args, "--utc"]);
  assert.equal(utc.code, 2);
  assert.match(utc.stderr, /holds local timestamps; run without --utc/);
  const foreign = `${dir}/other.parquet`;
  Deno.writeTextFileSync(foreign, "not parquet at all");
  const r = await sysmon(["run", "-o", foreign, "--duration", "0.2", "--sample-interval", "0.1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a readable Parquet file/);
  assert.equal(Deno.readTextFileSync(foreign), "not parquet at all", "left untouched");
});

Deno.test("sysmon run --output x.csv writes CSV with a metadata sidecar", async () => {
  const dir = tempDir();
  const out = `${dir}/t.csv`;
  const r = await sysmon([
    "run",
    "-o",
    out,
    "--sample-interval",
    "0.2",
    "--write-interval",
    "0.4",
    "--duration",
    "1",
    "-q",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = Deno.readTextFileSync(out).trim().split("\n");
  const header = lines[0]!.split(",");
  assert.equal(header[0], "timestamp");
  assert.ok(header.includes("cpu_0_utilization"));
  assert.equal(lines.length, 6);
  assert.match(lines[1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6},/);
  const meta = JSON.parse(Deno.readTextFileSync(`${out}.meta.json`));
  assert.equal(meta["sysmon.timezone"], "local");
});

Deno.test("sysmon snapshot --json prints one row with the trace's keys", async () => {
  const r = await sysmon(["snapshot", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const row = JSON.parse(r.stdout);
  assert.match(row.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal(typeof row.cpu_0_utilization, "number");
  assert.equal(typeof row.net_bytes_recv_per_sec, "number");
  const out = `${tempDir()}/t.parquet`;
  await sysmon(["run", "-o", out, "--sample-interval", "0.2", "--duration", "0.2", "-q"]);
  const { meta } = await readParquet(out);
  // Top-level columns only: `processes` is nested (list<struct>), its fields are not columns.
  const columns = parquetSchema(meta).children.map((c) => c.element.name);
  assert.deepEqual(Object.keys(row).sort(), columns.sort());
  assert.ok(Array.isArray(row.processes) && row.processes.length > 0);
});

Deno.test("sysmon run on a terminal keeps one live status line", async (t) => {
  const script = await new Deno.Command("sh", { args: ["-c", "command -v script"] }).output();
  if (!script.success) {
    await t.step({
      name: "skipped: util-linux `script` (a pseudo-terminal) is missing",
      ignore: true,
      fn: () => {},
    });
    return;
  }
  const out = `${tempDir()}/tty.parquet`;
  const cmd =
    `"${Deno.execPath()}" run -A "${MAIN}" run -o "${out}" --sample-interval 0.2 --write-interval 0.4 --duration 1`;
  // A wide terminal: the whole line fits (tests/cli_args_test.ts fits it to 80 columns).
  const res = await new Deno.Command("script", {
    args: ["-qec", `stty cols 200 rows 24; ${cmd}`, "/dev/null"],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(res.stdout);
  assert.equal(res.code, 0, text);
  // Each update rewrites the same line: carriage return, erase line, status.
  const updates = text.split("\r\x1b[2K").slice(1);
  assert.ok(updates.length >= 5, text);
  assert.match(
    updates.at(-1)!,
    /5 samples │ 5 rows written │ [\d.]+ KiB │ last write \d\d:\d\d:\d\d/,
  );
  assert.doesNotMatch(text, /wrote \d+ rows to/, "no per-write log lines on a terminal");
  assert.match(text, /sysmon: 5 samples in/);
});

Deno.test("the run summary says a file was not written instead of giving it rows", () => {
  const base = { output: "/x/t.parquet", samples: 3, seconds: 3, rowsWritten: 0 };
  const line = summaryLine({
    ...base,
    fileBytes: null,
    lastWrite: null,
    unavailable: [],
    error: "disk full writing /x/t.parquet",
  });
  assert.equal(
    line,
    "sysmon: 3 samples in 3.0 s; /x/t.parquet was not written; " +
      "last write FAILED: disk full writing /x/t.parquet",
  );
});

Deno.test("sysmon recover says when a journal's samples were all in the file already", async () => {
  const dir = tempDir();
  const out = `${dir}/t.parquet`;
  const r = await sysmon(["run", "-o", out, "--sample-interval", "0.2", "--duration", "0.5", "-q"]);
  assert.equal(r.code, 0, r.stderr);
  // A journal of a run killed just after its last fold: the same trace, rows already in.
  const { kv, rows } = await readParquet(out);
  const j = new Journal(`${out}.journal`);
  j.reset({
    sysmon_journal: 1,
    trace_id: kv.get("sysmon.trace_id")!,
    utc: false,
    sample_interval_s: 0.2,
  });
  j.append([{ seq: 0, row: { timestamp: 1, sys_total: 1 } }]);
  const again = await sysmon(["recover", out]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    again.stdout,
    `sysmon: ${out}.journal: its 1 sample was in ${out} already; removed it\n`,
  );
  assert.equal((await readParquet(out)).rows.length, rows.length);
  const none = await sysmon(["recover", out]);
  assert.equal(none.stdout, `sysmon: no journal beside ${out}\n`);
});
