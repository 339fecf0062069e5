import assert from "node:assert/strict";
import { columnDef } from "../src/schema/columns.ts";
import { RowBuffer } from "../src/store/row_buffer.ts";

const def = (n: string) => columnDef(n)!;

Deno.test("RowBuffer keeps values, nulls and late columns, and rebuilds rows", () => {
  const b = new RowBuffer();
  for (let i = 0; i < 100; i++) {
    b.push({
      timestamp: 1e15 + i,
      sys_total: i === 3 ? null : 2 ** 40 + i,
      max_files_process: `p${i}`,
    }, def);
  }
  b.push({ timestamp: 2e15, sys_total: 5, cpu_3_utilization: 12.5 }, def);
  assert.equal(b.length, 101);
  assert.deepEqual(b.column(def("sys_total")).slice(2, 5), [2n ** 40n + 2n, null, 2n ** 40n + 4n]);
  assert.equal(
    b.column(def("cpu_3_utilization"))[99],
    null,
    "a late column is null before it appeared",
  );
  assert.equal(b.column(def("cpu_3_utilization"))[100], 12.5);
  assert.equal(b.column(def("max_files_process"))[100], null);
  assert.deepEqual(b.row(100), {
    timestamp: 2e15,
    sys_total: 5,
    max_files_process: null,
    cpu_3_utilization: 12.5,
  });
  b.dropFirst(98);
  assert.equal(b.length, 3);
  assert.equal(b.row(0).max_files_process, "p98");
  b.push({ timestamp: 3e15, sys_total: null }, def);
  assert.equal(b.row(3).sys_total, null);
  assert.equal(b.row(3).cpu_3_utilization, null, "no value left over from a dropped row");
});
