import assert from "node:assert/strict";
import { ParquetSink } from "../src/store/parquet_sink.ts";
import { readParquet, tempDir } from "./helpers.ts";

const T0 = 1_795_000_000_000_000;
const row = (i: number) => ({
  timestamp: T0 + i * 1e6,
  sys_total: 1000 + i,
  max_files_process: `p${i}`.padEnd(200, "x"),
});

Deno.test("a removed output directory is reported, samples are kept, and written once it is back", async () => {
  const dir = `${tempDir()}/out`;
  Deno.mkdirSync(dir);
  const path = `${dir}/t.parquet`;
  const sink = ParquetSink.open({ path, utc: true, sampleInterval: 1, foldIntervalMs: 0 });
  sink.add(row(0));
  assert.equal(sink.write().error, null);
  Deno.removeSync(dir, { recursive: true });
  sink.add(row(1));
  const failed = sink.write();
  assert.match(failed.error ?? "", /no longer exists|cannot write/);
  sink.add(row(2));
  assert.notEqual(sink.write().error, null);
  Deno.mkdirSync(dir);
  sink.add(row(3));
  const ok = sink.close();
  assert.equal(ok.error, null);
  const { rows } = await readParquet(path);
  // The open row group is still in memory, so even row 0 (deleted with the directory) is back.
  assert.deepEqual(rows.map((r) => r.sys_total), [1000n, 1001n, 1002n, 1003n]);
});

Deno.test("a full disk is reported, nothing is lost, and writing resumes when space returns", async (t) => {
  const mnt = tempDir();
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
    stderr: "piped",
  }).output().catch(() => null);
  if (!mount?.success) {
    t.step({ name: "skipped: mounting a small tmpfs needs root", ignore: true, fn: () => {} });
    return;
  }
  try {
    const path = `${mnt}/t.parquet`;
    const sink = ParquetSink.open({ path, utc: true, sampleInterval: 1, foldIntervalMs: 0 });
    let i = 0;
    sink.add(row(i++));
    assert.equal(sink.write().error, null);
    // Fill the disk.
    const filler = `${mnt}/filler`;
    const f = Deno.openSync(filler, { write: true, create: true });
    try {
      while (true) f.writeSync(new Uint8Array(64 * 1024));
    } catch (err) {
      assert.match((err as Error).message, /os error 28|No space/);
    } finally {
      f.close();
    }
    let error: string | null = null;
    for (let k = 0; k < 50; k++) {
      sink.add(row(i++));
      error = sink.write().error;
    }
    assert.match(error ?? "", /disk full/);
    Deno.removeSync(filler);
    sink.add(row(i++));
    assert.equal(sink.close().error, null);
    const { rows } = await readParquet(path);
    assert.equal(rows.length, i, "every sample, including those taken while the disk was full");
    assert.deepEqual([...Deno.readDirSync(mnt)].map((e) => e.name), ["t.parquet"]);
  } finally {
    await new Deno.Command("umount", { args: ["-l", mnt] }).output();
  }
});
