// `sysmon run` with GPUs: the real tracer against a fake nvidia-smi first on PATH.
import assert from "node:assert/strict";
import { installFakeNvidiaSmi, readParquet, sysmon, tempDir } from "./helpers.ts";

const CAPTURES = new URL("./fixtures/captures/nvidia-smi/", import.meta.url).pathname;
const H100 = `${CAPTURES}linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt`;

function withFakePath(env: Record<string, string>): Record<string, string> {
  const dir = installFakeNvidiaSmi();
  return { ...env, PATH: `${dir}:${Deno.env.get("PATH") ?? ""}` };
}

Deno.test("sysmon run records GPU columns, and GPU names and UUIDs in the metadata", async () => {
  const dir = tempDir();
  const out = `${dir}/gpu.parquet`;
  const pids = `${dir}/pids`;
  const env = withFakePath({
    FAKE_NVIDIA_SMI_CAPTURE: H100,
    FAKE_NVIDIA_SMI_GPUS: "2",
    FAKE_NVIDIA_SMI_PIDS: pids,
  });
  const r = await sysmon(
    ["run", "-o", out, "--sample-interval", "0.5", "--duration", "4", "--no-docker", "-q"],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  const { rows, kv } = await readParquet(out);
  // Two long-lived children (GPUs, GPU processes) for 8 samples: no process per sample.
  assert.equal(Deno.readTextFileSync(pids).trim().split("\n").length, 2);
  assert.ok(rows.length >= 7);
  const last = rows.at(-1)!;
  for (const i of [0, 1]) {
    assert.equal(last[`gpu_${i}_total`], 81559n * 1048576n, `gpu_${i}_total`);
    const used = Number(last[`gpu_${i}_used`]);
    assert.ok(used >= 0 && used <= 81559 * 1048576);
    const util = last[`gpu_${i}_utilization`] as number;
    assert.ok(util >= 0 && util <= 100, `gpu_${i}_utilization ${util}`);
    assert.ok((last[`gpu_${i}_power_w`] as number) > 0);
  }
  assert.equal(rows[0]!.cpu_0_utilization !== undefined, true);
  const gpus = JSON.parse(kv.get("sysmon.gpus")!);
  assert.equal(gpus.length, 2);
  assert.match(gpus[0].name, /H100/);
  assert.notEqual(gpus[0].uuid, gpus[1].uuid);
});

Deno.test("sysmon run without a working driver: one notice, every other column kept", async () => {
  const out = `${tempDir()}/nodriver.parquet`;
  const env = withFakePath({ FAKE_NVIDIA_SMI_EXIT: "9" });
  const r = await sysmon(
    ["run", "-o", out, "--sample-interval", "0.3", "--duration", "3", "--no-docker"],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  const notices = r.stderr.split("\n").filter((l) => l.includes("driver"));
  assert.equal(notices.length, 1, r.stderr);
  const { rows } = await readParquet(out);
  assert.ok(rows.length >= 8);
  assert.ok(Object.keys(rows[0]!).every((k) => !k.startsWith("gpu_")));
  assert.ok(typeof rows.at(-1)!.cpu_busy_percent === "number");
});

Deno.test("sysmon run --no-gpu never starts nvidia-smi", async () => {
  const dir = tempDir();
  const pids = `${dir}/pids`;
  const env = withFakePath({ FAKE_NVIDIA_SMI_CAPTURE: H100, FAKE_NVIDIA_SMI_PIDS: pids });
  const r = await sysmon(
    ["run", "-o", `${dir}/t.parquet`, "--sample-interval", "0.3", "--duration", "1.5", "--no-gpu"],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.throws(() => Deno.statSync(pids), Deno.errors.NotFound);
  // The same run with GPUs on does start it: the check above can fail.
  const r2 = await sysmon(
    ["run", "-o", `${dir}/u.parquet`, "--sample-interval", "0.3", "--duration", "2", "--no-docker"],
    { env },
  );
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(Deno.readTextFileSync(pids).trim().length > 0);
});

Deno.test("sysmon snapshot --json includes the GPUs", async () => {
  const env = withFakePath({ FAKE_NVIDIA_SMI_CAPTURE: H100 });
  const r = await sysmon(["snapshot", "--json", "--no-docker"], { env });
  assert.equal(r.code, 0, r.stderr);
  const row = JSON.parse(r.stdout);
  assert.equal(row.gpu_0_total, 81559 * 1048576);
  assert.equal(typeof row.gpu_0_temp, "number");
  assert.equal(typeof row.sys_total, "number");
});
