// Native DuckDB (@duckdb/node-api, not the WebAssembly build serve uses) as an independent
// reader of sysmon's files: what a user's DuckDB sees, including while a tracer writes.
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { smallTrace } from "./fault_kit.ts";
import { readParquet, spawnSysmon, tempDir } from "./helpers.ts";

async function duck() {
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  const rows = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjects();
  return { rows, close: () => con.closeSync() };
}

const quote = (path: string) => `'${path.replaceAll("'", "''")}'`;

Deno.test("native DuckDB reads a trace of sysmon run: rows, types, times and metadata", async () => {
  const path = await smallTrace();
  const db = await duck();
  try {
    const [n] = await db.rows(
      `SELECT count(*)::INTEGER AS rows, count(DISTINCT timestamp)::INTEGER AS times
         FROM ${quote(path)}`,
    );
    const ours = (await readParquet(path)).rows.length;
    assert.deepEqual(n, { rows: ours, times: ours });
    const types = Object.fromEntries(
      (await db.rows(`DESCRIBE SELECT * FROM ${quote(path)}`)).map((r) => [
        r.column_name,
        r.column_type,
      ]),
    );
    assert.equal(types.timestamp, "TIMESTAMP");
    assert.equal(types.cpu_busy_percent, "DOUBLE");
    assert.equal(types.sys_total, "BIGINT");
    assert.match(String(types.processes), /^STRUCT\(pid BIGINT, ppid BIGINT, "name" VARCHAR, /);
    const kv = (await db.rows(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${quote(path)})`,
    )).map((r) => String(r.k));
    for (const k of ["sysmon.version", "sysmon.trace_id", "sysmon.timezone", "sysmon.host"]) {
      assert.ok(kv.includes(k), `${k} in ${kv.join(", ")}`);
    }
    const [p] = await db.rows(
      `SELECT len(processes)::INTEGER AS n, processes[1].pid > 0 AS pid
         FROM ${quote(path)} ORDER BY timestamp DESC LIMIT 1`,
    );
    assert.ok(Number(p!.n) > 0 && p!.pid === true);
  } finally {
    db.close();
  }
});

Deno.test({
  name: "native DuckDB reading while sysmon run folds every 0.3 s never sees a broken file",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const path = `${tempDir()}/busy.parquet`;
    const child = spawnSysmon([
      "run",
      "-o",
      path,
      "--sample-interval",
      "0.1",
      "--write-interval",
      "0.2",
      "--fold-interval",
      "0.3",
      "--duration",
      "4",
      "--no-gpu",
      "--no-docker",
      "-q",
    ]);
    const db = await duck();
    const counts: number[] = [];
    const errors: string[] = [];
    try {
      const done = child.status;
      let finished = false;
      done.then(() => (finished = true));
      while (!finished) {
        try {
          const [r] = await db.rows(`SELECT count(*)::INTEGER AS n FROM ${quote(path)}`);
          counts.push(Number(r!.n));
        } catch (err) {
          const text = String(err);
          // Before the first fold there is no file: that is not a broken one.
          if (!/No files found|does not exist/i.test(text)) errors.push(text.slice(0, 200));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((await done).code, 0);
    } finally {
      db.close();
    }
    assert.deepEqual(errors, []);
    assert.ok(counts.length >= 20, `${counts.length} reads`);
    assert.ok(counts.every((n, i) => i === 0 || n >= counts[i - 1]!), "rows never go back");
    assert.equal(counts.at(-1)! <= (await readParquet(path)).rows.length, true);
  },
});
