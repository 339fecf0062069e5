// The command line as the user types it: the original tool's serve flags, unknown commands,
// output names, a duration shorter than the interval, status lines fitted to the terminal.
import assert from "node:assert/strict";
import { MAIN, readParquet, sysmon, tempDir } from "./helpers.ts";
import { smallTrace, startServe } from "./fault_kit.ts";

/** A loopback port nothing listens on. */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

/** Whether util-linux `script` (a pseudo-terminal) is here; a skipped step says so if not. */
async function haveScript(t: Deno.TestContext): Promise<boolean> {
  const r = await new Deno.Command("sh", { args: ["-c", "command -v script"] }).output();
  if (r.success) return true;
  await t.step({
    name: "skipped: util-linux `script` (a pseudo-terminal) is missing",
    ignore: true,
    fn: () => {},
  });
  return false;
}

/** Runs `shell` on a pseudo-terminal of `columns` columns; its output as the terminal got it. */
async function onTerminal(columns: number, shell: string) {
  const res = await new Deno.Command("script", {
    args: ["-qec", `stty cols ${columns} rows 24; ${shell}`, "/dev/null"],
    stdin: "null",
  }).output();
  return { code: res.code, text: new TextDecoder().decode(res.stdout) };
}

/** Each state of a status line redrawn in place (`\r`, erase line), escapes and line end cut. */
function statusUpdates(text: string): string[] {
  return text.split("\r\x1b[2K").slice(1).map((u) =>
    // deno-lint-ignore no-control-regex
    u.split(/\r|\n/)[0]!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
  );
}

Deno.test("sysmon serve -d FILE -p PORT -i S serves that file (the original tool's flags)", async () => {
  const file = await smallTrace();
  const port = freePort();
  const s = await startServe(["-d", file, "-p", String(port), "-i", "3"]);
  try {
    assert.equal(s.url, `http://127.0.0.1:${port}/`);
    assert.match(s.out, new RegExp(`data file: ${file}\\n`));
    const meta = await fetch(`${s.url}api/meta`);
    assert.equal(meta.status, 200);
    assert.ok((await meta.json()).rows > 0);
    const page = await (await fetch(s.url)).text();
    assert.match(page, /hx-trigger="every 3s"/, "-i is the page's refresh interval");
  } finally {
    const end = await s.stop();
    assert.equal(end.code, 0, end.stderr);
  }
  const both = await sysmon(["serve", file, "-d", `${file}.other.parquet`, "-p", "0"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /two traces given/);
});

Deno.test("sysmon serve answers requests without Deno's request.signal warning", async () => {
  const s = await startServe([await smallTrace(), "--port", "0"]);
  const origin = { Origin: s.url.slice(0, -1) };
  try {
    for (const path of ["", "api/meta", "api/events", "ui/events"]) {
      const r = await fetch(`${s.url}${path}`);
      await r.body?.cancel();
      assert.equal(r.status, 200, path);
    }
    // An upload without a length (chunked): the body limit reads it and hands it on.
    const csv = new TextEncoder().encode("event,timestamp\nchunked,2024-05-01T00:00:00Z\n");
    const chunked = await fetch(`${s.url}api/events/import`, {
      method: "POST",
      headers: { ...origin, "Content-Type": "text/csv" },
      body: new ReadableStream({
        start(c) {
          c.enqueue(csv);
          c.close();
        },
      }),
    });
    assert.equal(chunked.status, 200, await chunked.text());
    const events = await (await fetch(`${s.url}api/events`)).json();
    assert.ok(JSON.stringify(events).includes("chunked"), JSON.stringify(events));
  } finally {
    const end = await s.stop();
    assert.equal(end.code, 0, end.stderr);
    assert.doesNotMatch(end.stderr, /request\.signal|legacy/, end.stderr);
  }
});

Deno.test("sysmon bogus says the command is unknown and exits 2", async () => {
  const r = await sysmon(["bogus"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^sysmon: unknown command 'bogus'\n/);
  assert.match(r.stderr, /commands: run \(the default\), .*serve/);
  assert.doesNotMatch(r.stderr, /too many arguments/);
  const near = await sysmon(["serv"]);
  assert.equal(near.code, 2);
  assert.match(near.stderr, /unknown command 'serv'\n {2}did you mean 'serve'\?/);
  const file = await sysmon(["trace.parquet"]);
  assert.equal(file.code, 2);
  assert.match(file.stderr, /to show that trace: sysmon serve trace\.parquet/);
});

Deno.test("sysmon with only run's flags still runs (run is the default command)", async () => {
  const dir = tempDir();
  const args = ["--sample-interval", "0.2", "--duration", "0.2", "-q", "--no-gpu", "--no-docker"];
  const alone = await sysmon(args, { cwd: dir });
  assert.equal(alone.code, 0, alone.stderr);
  const named = await sysmon(["--output", "x.parquet", ...args], { cwd: dir });
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    ["system_monitor.parquet", "x.parquet"],
  );
});

Deno.test("sysmon run -o x.txt exits 2 naming the flag and writes nothing", async () => {
  const dir = tempDir();
  for (const name of ["x.txt", "x", "x.parquet.bak"]) {
    const r = await sysmon(["run", "-o", `${dir}/${name}`, "--duration", "0.2"]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /--output .*: the name must end in \.parquet .* or \.csv/);
  }
  assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written");
  const upper = await sysmon(["run", "-o", `${dir}/X.CSV`, "--sample-interval", "0.2", "-q"].concat(
    ["--duration", "0.2", "--no-gpu", "--no-docker"],
  ));
  assert.equal(upper.code, 0, upper.stderr);
});

Deno.test("sysmon run --duration 1 --sample-interval 5 writes one sample, said as one", async () => {
  const out = `${tempDir()}/short.parquet`;
  const started = Date.now();
  const r = await sysmon([
    "run",
    "-o",
    out,
    "--duration",
    "1",
    "--sample-interval",
    "5",
    "--no-gpu",
    "--no-docker",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 20_000);
  assert.match(r.stdout, /^sysmon: 1 sample in 1\.\d s; 1 row in /m);
  assert.doesNotMatch(r.stdout, /\b1 (samples|rows)\b/);
  const { rows } = await readParquet(out);
  assert.equal(rows.length, 1);
  assert.equal(typeof rows[0]!.net_bytes_recv_per_sec, "number", "rates over the duration");
});

Deno.test("sysmon run's status line fits an 80-column terminal", async (t) => {
  if (!(await haveScript(t))) return;
  const dir = `${tempDir()}/a-directory-with-a-name-long-enough-to-overflow-the-line`;
  Deno.mkdirSync(dir);
  const { code, text } = await onTerminal(
    80,
    `"${Deno.execPath()}" run -A "${MAIN}" run -o "${dir}/tty.parquet" ` +
      "--sample-interval 0.2 --write-interval 0.4 --duration 1",
  );
  assert.equal(code, 0, text);
  const updates = statusUpdates(text);
  assert.ok(updates.length >= 5, text);
  for (const u of updates) assert.ok([...u].length <= 79, `${[...u].length} columns: ${u}`);
  assert.match(updates.at(-1)!, /^sysmon → tty\.parquet │ 5 samples │ 5 rows written/);
  assert.match(updates[0]!, /│ 1 sample │/);
});

Deno.test("sysmon serve keeps one status line on a terminal, fitted to it", async (t) => {
  if (!(await haveScript(t))) return;
  const file = await smallTrace();
  const port = freePort();
  const serving = onTerminal(
    80,
    `timeout -s INT 8 "${Deno.execPath()}" run -A "${MAIN}" serve "${file}" -p ${port}`,
  );
  const url = `http://127.0.0.1:${port}/`;
  let answered = 0;
  for (const until = Date.now() + 7000; Date.now() < until && answered < 3;) {
    try {
      const r = await fetch(`${url}api/meta`);
      await r.body?.cancel();
      answered++;
    } catch {
      await new Promise((r) => setTimeout(r, 200)); // not listening yet
    }
  }
  const { text } = await serving;
  assert.equal(answered, 3, text);
  const updates = statusUpdates(text);
  assert.ok(updates.length >= 2, text);
  for (const u of updates) assert.ok([...u].length <= 79, `${[...u].length} columns: ${u}`);
  assert.match(
    updates.at(-1)!,
    new RegExp(`^${url} │ t\\.parquet │ following the file │ 3 requests`),
  );
  assert.match(text, /sysmon serve: stopped/);
});
