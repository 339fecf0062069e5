import assert from "node:assert/strict";
import { readParquet, spawnSysmon, sysmon, tempDir, waitFor } from "./helpers.ts";

Deno.test("SIGKILL at random moments never leaves an unreadable file or loses a written sample", async () => {
  const dir = tempDir();
  const out = `${dir}/t.parquet`;
  let expected = 0; // rows the tracer reported written before it was killed
  // Seeded: the same "random" moments on every run, spread over journal appends and folds.
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 12; i++) {
    const child = spawnSysmon([
      "run",
      "-o",
      out,
      "--sample-interval",
      "0.1",
      "--write-interval",
      "0.1",
      "--fold-interval",
      "0.25",
    ], { stdout: "piped" });
    // Read the per-write log lines as they come: "wrote N rows".
    let written = 0;
    const reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stdout) {
        for (const m of dec.decode(chunk).matchAll(/wrote (\d+) rows/g)) written = Number(m[1]);
      }
    })();
    await waitFor(() => written > 0, 20_000, "a first write");
    await new Promise((r) => setTimeout(r, 100 + rand() * 900));
    child.kill("SIGKILL");
    await child.status;
    await reader;
    expected = Math.max(expected, written);
    // The file is complete at every moment.
    const { rows } = await readParquet(out);
    assert.ok(rows.length > 0);
    // The next run folds the journal in; every reported row is there.
    const r = await sysmon(["recover", out]);
    assert.equal(r.code, 0, r.stderr);
    const after = await readParquet(out);
    assert.ok(after.rows.length >= expected, `${after.rows.length} rows < ${expected} written`);
    const ts = after.rows.map((x) => (x.timestamp as Date).getTime());
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b), "no duplicated or reordered rows");
    assert.equal(new Set(ts).size, ts.length, "no duplicates");
    expected = after.rows.length;
  }
  // A clean run afterwards removes what the killed runs left (temporary files, the journal).
  // A killed run's pieces (files of one fold's rows, not merged yet) stay as segments.
  const r = await sysmon(["run", "-o", out, "--sample-interval", "0.1", "--duration", "0.3", "-q"]);
  assert.equal(r.code, 0, r.stderr);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.ok(names.every((n) => /^t(\.\d{4,})?\.parquet$/.test(n)), names.join(" "));
  const last = await readParquet(out);
  const ts = last.rows.map((x) => (x.timestamp as Date).getTime());
  assert.ok(ts.length > expected);
  assert.equal(new Set(ts).size, ts.length, "no duplicates");
});
