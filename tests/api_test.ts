import assert from "node:assert/strict";
import { collectSystemSnapshot, monitorToParquet, Refusal } from "../mod.ts";
import { readParquet, tempDir } from "./helpers.ts";

Deno.test("monitorToParquet() traces until its signal aborts, then writes everything", async () => {
  const outputFile = `${tempDir()}/api.parquet`;
  const ac = new AbortController();
  let writes = 0;
  const summary = await monitorToParquet(
    {
      outputFile,
      sampleInterval: 0.1,
      writeInterval: 0.2,
      enableGpu: false,
      enableDocker: false,
      signal: ac.signal,
    },
    {
      onWrite: (s) => {
        writes++;
        if (s.samples >= 6) ac.abort();
      },
    },
  );
  assert.ok(writes >= 2);
  assert.equal(summary.error, null);
  assert.equal(summary.rowsWritten, summary.samples);
  assert.equal((await readParquet(outputFile)).rows.length, summary.samples);
});

Deno.test("monitorToParquet() rejects bad options with a Refusal (bad_input) naming the option", async () => {
  await assert.rejects(
    () => monitorToParquet({ sampleInterval: 0.05 }),
    (e) => e instanceof Refusal && e.kind === "bad_input" && /--sample-interval/.test(e.message),
  );
  await assert.rejects(
    () => monitorToParquet({ outputFile: "/nonexistent-dir/x.parquet" }),
    /--output: directory \/nonexistent-dir does not exist/,
  );
});

Deno.test("collectSystemSnapshot() returns one full row with real percentages", async () => {
  const row = await collectSystemSnapshot({ enableGpu: false, enableDocker: false, windowMs: 100 });
  assert.equal(typeof row.timestamp, "number");
  const cpu = row.cpu_0_utilization as number;
  assert.ok(cpu >= 0 && cpu <= 100);
  assert.equal(typeof row.sys_total, "number");
});
