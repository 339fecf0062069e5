import assert from "node:assert/strict";
import * as duckdb from "@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs";
import { readParquet, sysmon, tempDir } from "./helpers.ts";

const dist = new URL("../node_modules/@duckdb/duckdb-wasm/dist/", import.meta.url).pathname;

Deno.test("DuckDB (the dashboard's engine) reads a trace with the right types and values", async () => {
  const out = `${tempDir()}/t.parquet`;
  const r = await sysmon(["run", "-o", out, "--sample-interval", "0.2", "--duration", "1", "-q"]);
  assert.equal(r.code, 0, r.stderr);
  const db = await duckdb.createDuckDB(
    {
      mvp: {
        mainModule: `${dist}duckdb-mvp.wasm`,
        mainWorker: `${dist}duckdb-node-mvp.worker.cjs`,
      },
      eh: { mainModule: `${dist}duckdb-eh.wasm`, mainWorker: `${dist}duckdb-node-eh.worker.cjs` },
    },
    new duckdb.VoidLogger(),
    duckdb.NODE_RUNTIME,
  );
  await db.instantiate(() => {});
  const conn = db.connect();
  const q = (sql: string) => conn.query(sql).toArray().map((x) => x.toJSON());
  const [agg] = q(`select count(*)::int n, typeof(min(timestamp)) ts, typeof(min(sys_total)) st,
    typeof(min(cpu_0_utilization)) cu, typeof(min(max_files_process)) mp,
    sum(sys_total)::double total from read_parquet('${out}')`);
  const { rows } = await readParquet(out);
  assert.equal(agg!.n, rows.length);
  assert.equal(agg!.ts, "TIMESTAMP");
  assert.equal(agg!.st, "BIGINT");
  assert.equal(agg!.cu, "DOUBLE");
  assert.equal(agg!.mp, "VARCHAR");
  assert.equal(agg!.total, rows.reduce((s, r) => s + Number(r.sys_total), 0));
  conn.close();
  await db.reset();
});
