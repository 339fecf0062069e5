// The sampler end to end over the recorded /proc and /sys tree, against a golden row (as
// node_exporter checks its collectors against fixtures): every column, its value and its
// order. Between two samples 1 s apart the test adds known counts to the tree, so the rates
// and percentages in the golden row can be checked by hand (see the notes beside each).
// After a deliberate change: SYSMON_UPDATE_GOLDEN=1 deno test -A tests/sampler_golden_test.ts,
// then review the diff of tests/fixtures/golden/sampler_row.json.
import assert from "node:assert/strict";
import { ProcFs } from "../src/collect/proc/fs.ts";
import { SystemSampler } from "../src/collect/system.ts";
import { fixtureCopy } from "./helpers.ts";

const GOLDEN = new URL("./fixtures/golden/sampler_row.json", import.meta.url).pathname;

function edit(path: string, fn: (line: string) => string) {
  Deno.writeTextFileSync(path, Deno.readTextFileSync(path).split("\n").map(fn).join("\n"));
}

/** Adds `by` to field `i` (0-based, split on spaces) of the line whose first field is `key`. */
function add(path: string, key: string, i: number, by: number) {
  edit(path, (l) => {
    const f = l.trim().split(/\s+/);
    if (f[0] !== key) return l;
    f[i] = String(Number(f[i]) + by);
    return f.join(" ");
  });
}

Deno.test("the sampler's row over the recorded host matches the golden row", () => {
  const tree = fixtureCopy();
  let wall = 1_795_000_000_000, mono = 0;
  const clock = { wallMs: () => wall, monoMs: () => mono };
  const sampler = new SystemSampler({ fs: new ProcFs(tree), clock, useUtc: true });
  sampler.sample();
  // One second later: cpu0 busy 50 % (50 user + 50 idle jiffies at 100 Hz), cpu1 idle.
  add(`${tree.proc}/stat`, "cpu", 1, 50);
  add(`${tree.proc}/stat`, "cpu", 4, 150);
  add(`${tree.proc}/stat`, "cpu0", 1, 50);
  add(`${tree.proc}/stat`, "cpu0", 4, 50);
  add(`${tree.proc}/stat`, "cpu1", 4, 100);
  wall += 1000;
  mono += 1000;
  const row = sampler.sample();
  const text = JSON.stringify(row, null, 1) + "\n";
  if (Deno.env.get("SYSMON_UPDATE_GOLDEN") === "1") Deno.writeTextFileSync(GOLDEN, text);
  const golden = JSON.parse(Deno.readTextFileSync(GOLDEN));
  assert.deepEqual(Object.keys(row), Object.keys(golden), "the same columns in the same order");
  assert.deepEqual(JSON.parse(text), golden);
  // Checked by hand against the tree (not with the code under test):
  assert.equal(golden.sys_total, 24684092 * 1024); // MemTotal
  assert.equal(golden.sys_free, 24390060 * 1024); // MemFree
  assert.equal(golden.mem_dirty_bytes, 1284 * 1024); // Dirty
  assert.deepEqual([golden.fd_used, golden.fd_max], [310, 2466186]); // sys/fs/file-nr
  assert.equal(golden.cpu_0_utilization, 50);
  assert.equal(golden.cpu_1_utilization, 0);
  assert.equal(golden.cpu_busy_percent, 25);
});
