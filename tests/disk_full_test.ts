// A full disk, then freed, as a user meets it: a small tmpfs (mounted here when run as root),
// the real tracer writing to it, a filler taking the last byte, the filler deleted.
import assert from "node:assert/strict";
import { readParquet, sysmon } from "./helpers.ts";
import { fillAndFree, fillDisk, smallTmpfs, unmount } from "./fault_kit.ts";
import { Journal } from "../src/store/journal.ts";

Deno.test("a 300 KB tmpfs filled and freed: every sample reaches the file, exit 0", async (t) => {
  const mnt = await smallTmpfs("300k");
  if (mnt === null) {
    await t.step({ name: "skipped: mounting a tmpfs needs root", ignore: true, fn: () => {} });
    return;
  }
  try {
    const r = await fillAndFree(mnt);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /disk full writing .*; retrying/);
    assert.ok(r.samples >= 25, `${r.samples} samples`);
    assert.equal(r.rows, r.samples, "every sample, those taken while the disk was full too");
    // No journal left behind, nothing else on the disk: the space came back.
    assert.deepEqual([...Deno.readDirSync(mnt)].map((e) => e.name), ["t.parquet"]);
  } finally {
    await unmount(mnt);
  }
});

Deno.test("sysmon recover on a full disk: a message, the journal kept, and it works once freed", async (t) => {
  const mnt = await smallTmpfs("200k");
  if (mnt === null) {
    await t.step({ name: "skipped: mounting a tmpfs needs root", ignore: true, fn: () => {} });
    return;
  }
  try {
    const out = `${mnt}/t.parquet`;
    const j = new Journal(`${out}.journal`);
    j.reset({ sysmon_journal: 1, trace_id: "t-1", utc: true, sample_interval_s: 1 });
    const t0 = Date.UTC(2026, 0, 1) * 1000;
    j.append(
      Array.from({ length: 50 }, (_, i) => ({ seq: i, row: { timestamp: t0 + i * 1e6, x: i } })),
    );
    fillDisk(`${mnt}/filler`);
    const r = await sysmon(["recover", out]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `sysmon: recover failed: disk full writing ${out}; the journal is kept\n`,
    );
    assert.ok(Deno.statSync(`${out}.journal`).size > 0);
    Deno.removeSync(`${mnt}/filler`);
    const again = await sysmon(["recover", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /recovered 50 samples/);
    assert.equal((await readParquet(out)).rows.length, 50);
  } finally {
    await unmount(mnt);
  }
});
