// Readings too big for their column (a broken driver, a hostile Docker API): stored as null
// with one notice, never a failed write; `recover` never crashes on them either.
import assert from "node:assert/strict";
import { FakeDockerApi } from "./fixtures/fake_docker_api.ts";
import { readParquet, sysmon, tempDir } from "./helpers.ts";
import { Journal } from "../src/store/journal.ts";
import { smiPrinting } from "./fault_kit.ts";

const HUGE_LINE =
  "0, GPU-1, 10, 5, 81920, 1024, 99999999999999999999999, 40, 100, 300, 1500, 2600, 30, P0, FakeGPU";

Deno.test("an nvidia-smi reading of 99999999999999999999999 is null in a file with every row", async () => {
  const out = `${tempDir()}/gpu.parquet`;
  const path = `${smiPrinting(HUGE_LINE)}:${Deno.env.get("PATH")}`;
  const r = await sysmon(
    ["run", "-o", out, "--sample-interval", "0.3", "--duration", "3", "--no-docker"],
    { env: { PATH: path } },
  );
  assert.equal(r.code, 0, r.stderr);
  const notices = r.stderr.split("\n").filter((l) => l.includes("out of range"));
  assert.deepEqual(notices, [
    "sysmon: gpu_0_free: a reading out of range for its column is stored as null",
  ]);
  const samples = Number(/(\d+) samples/.exec(r.stdout)![1]);
  const { rows } = await readParquet(out);
  assert.equal(rows.length, samples, "every sample is in the file");
  assert.ok(rows.length >= 8);
  assert.ok(rows.every((row) => row.gpu_0_free === null));
  // The rest of the GPU's line is kept.
  assert.equal(rows.at(-1)!.gpu_0_used, 1024n * 1048576n);
  assert.equal(rows.at(-1)!.gpu_0_power_w, 100);
});

Deno.test("a Docker API reporting 1e30 bytes of memory gives null there and every row", async () => {
  const api = FakeDockerApi.start({ containers: [{ name: "huge", memUsage: 1e30 }] });
  try {
    const out = `${tempDir()}/docker.parquet`;
    const r = await sysmon(
      ["run", "-o", out, "--sample-interval", "0.3", "--duration", "3", "--no-gpu"],
      { env: { DOCKER_HOST: api.host } },
    );
    assert.equal(r.code, 0, r.stderr);
    const notices = r.stderr.split("\n").filter((l) => l.includes("out of range"));
    assert.equal(notices.length, 1, r.stderr);
    assert.match(notices[0]!, /docker_huge_mem_used_bytes/);
    const samples = Number(/(\d+) samples/.exec(r.stdout)![1]);
    const { rows } = await readParquet(out);
    assert.equal(rows.length, samples);
    assert.ok(rows.every((row) => row.docker_huge_mem_used_bytes === null));
    assert.equal(typeof rows.at(-1)!.docker_huge_cpu_percent, "number");
  } finally {
    await api.stop();
  }
});

Deno.test("sysmon recover folds a journal holding 1e23 in an integer column: null, exit 0", async () => {
  const dir = tempDir();
  const out = `${dir}/t.parquet`;
  const j = new Journal(`${out}.journal`);
  j.reset({ sysmon_journal: 1, trace_id: "t-1", utc: true, sample_interval_s: 1 });
  const t0 = Date.UTC(2026, 0, 1) * 1000;
  j.append([
    { seq: 0, row: { timestamp: t0, sys_total: 1000, gpu_0_free: 1e23 } },
    { seq: 1, row: { timestamp: t0 + 1e6, sys_total: 1001, gpu_0_free: 5 } },
  ]);
  const r = await sysmon(["recover", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /);
  assert.match(r.stdout, /recovered 2 samples/);
  const { rows } = await readParquet(out);
  assert.deepEqual(rows.map((x) => x.gpu_0_free), [null, 5n]);
  assert.deepEqual(rows.map((x) => x.sys_total), [1000n, 1001n]);
});
