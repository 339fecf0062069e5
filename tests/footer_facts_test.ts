// A small footer's facts (src/query/footer_facts.ts) against native DuckDB, an independent
// reader: rows and timestamp bounds from the statistics equal its count, min and max, for UTC
// and local-time traces and a group whose timestamps are all there; the schema key is shared
// by two files DuckDB types alike and differs when a column differs. And the served meta of a
// trace of many files is the same with the facts as with DuckDB's own queries.
import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { footerFacts, SMALL_FOOTER_BYTES } from "../src/query/footer_facts.ts";
import { openTrace } from "../src/query/source.ts";
import { readFooter } from "../src/store/parquet_trace.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";

const T0 = Date.UTC(2026, 4, 12, 9, 0, 0);

/** The file's footer bytes (metadata, length, magic), as load_version.ts reads them. */
function footerBytes(path: string): Uint8Array {
  const bytes = Deno.readFileSync(path);
  return bytes.subarray(readFooter(path).footerStart);
}

async function duckCounts(path: string) {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(
      `SELECT count(*)::DOUBLE n, epoch_ms(min(timestamp))::DOUBLE lo,
              epoch_ms(max(timestamp))::DOUBLE hi
         FROM read_parquet('${path}') WHERE timestamp IS NOT NULL`,
    );
    const [n, lo, hi] = r.getRows()[0]! as number[];
    const d = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    return { rows: n, lo, hi, types: d.getRows().map((x) => `${x[0]} ${x[1]}`) };
  } finally {
    con.closeSync();
  }
}

Deno.test("a small footer's rows and timestamp bounds are native DuckDB's count, min and max", async () => {
  const dir = tempDir();
  const files = {
    utc: `${dir}/utc.parquet`,
    tokyo: `${dir}/tokyo.parquet`,
    gpu: `${dir}/gpu.parquet`,
    again: `${dir}/again.parquet`,
  };
  writeTrace(files.utc, "h", T0, { n: 50 });
  writeTrace(files.tokyo, "h", T0, { n: 30, step: 2000, zone: "Asia/Tokyo", offsetH: 9 });
  writeTrace(files.gpu, "h", T0, { n: 50, gpu: true });
  writeTrace(files.again, "h", T0 + 1e6, { n: 7 });
  const facts = Object.fromEntries(
    Object.entries(files).map(([k, p]) => [k, footerFacts(footerBytes(p))!]),
  );
  for (const [k, path] of Object.entries(files)) {
    const duck = await duckCounts(path);
    assert.deepEqual(facts[k]!.counts, { rows: duck.rows, lo: duck.lo, hi: duck.hi }, k);
  }
  // The same columns: one key (described once); another column: another key.
  assert.equal(facts.utc!.schemaKey, facts.again!.schemaKey);
  assert.notEqual(facts.utc!.schemaKey, facts.gpu!.schemaKey);
  assert.notEqual(facts.utc!.schemaKey, facts.tokyo!.schemaKey); // naive, not UTC, times
  assert.notDeepEqual((await duckCounts(files.utc)).types, (await duckCounts(files.tokyo)).types);
  // A long footer is left to DuckDB.
  assert.equal(footerFacts(new Uint8Array(SMALL_FOOTER_BYTES + 1)), null);
  assert.equal(footerFacts(Uint8Array.of(1, 2, 3, 4, 0, 0, 0, 0, 80, 65, 82, 49)), null);
});

Deno.test("a trace of many files reads the same bounds, rows and columns as each file alone", async () => {
  const dir = tempDir();
  const id = writeTrace(`${dir}/t.parquet`, "h", T0, { n: 40 });
  for (let k = 1; k <= 5; k++) {
    writeTrace(`${dir}/t_${k}.parquet`, "h", T0 + k * 40_000, { n: 40, id, gpu: k === 3 });
  }
  const src = await openTrace(dir, { defaultZone: "UTC" });
  try {
    const meta = await src.meta();
    assert.equal(meta.rows, 240);
    assert.equal(meta.first, T0);
    assert.equal(meta.last, T0 + 239_000);
    assert.ok(meta.columns.some((c) => c.name === "gpu_0_utilization"));
    const s = await src.series({ columns: ["gpu_0_utilization"], points: 1000 });
    assert.equal(s.series.gpu_0_utilization!.filter((v) => v !== null).length, 40);
  } finally {
    await src.close();
  }
});
