// `sysmon run` with containers: the real tracer against a fake Engine API on a unix socket.
import assert from "node:assert/strict";
import { FakeDockerApi } from "./fixtures/fake_docker_api.ts";
import { readParquet, sysmon, tempDir } from "./helpers.ts";

Deno.test("sysmon run records docker_<name>_* columns from the Engine API", async () => {
  const api = FakeDockerApi.start({
    containers: [
      { name: "web.front-1", cpus: 0.5, memUsage: 64 << 20, memLimit: 256 << 20 },
      { name: "db_main", cpus: 0.25, netRxPerSec: 1000 },
    ],
  });
  try {
    const out = `${tempDir()}/docker.parquet`;
    const r = await sysmon(
      ["run", "-o", out, "--sample-interval", "0.5", "--duration", "4", "--no-gpu", "-q"],
      { env: { DOCKER_HOST: api.host } },
    );
    assert.equal(r.code, 0, r.stderr);
    const { rows, meta } = await readParquet(out);
    const names = meta.schema.map((s) => s.name);
    for (const c of ["web.front-1", "db_main"]) {
      for (const m of ["cpu_percent", "mem_used_bytes", "net_rx_bytes", "net_rx_bytes_per_sec"]) {
        assert.ok(names.includes(`docker_${c}_${m}`), `docker_${c}_${m} in ${names}`);
      }
    }
    const last = rows.at(-1)!;
    const cpu = last["docker_web.front-1_cpu_percent"] as number;
    assert.ok(cpu > 35 && cpu < 65, `cpu ${cpu}`);
    assert.equal(typeof last["docker_web.front-1_mem_used_bytes"], "bigint");
    const rx = last["docker_db_main_net_rx_bytes_per_sec"] as number;
    assert.ok(rx > 500 && rx < 1500, `rx/s ${rx}`);
    // Container columns come after the system's.
    assert.ok(names.indexOf("docker_db_main_cpu_percent") > names.indexOf("disk_util_percent"));
  } finally {
    await api.stop();
  }
});

Deno.test("sysmon run with no Docker daemon: one notice, the rest sampled", async () => {
  const dir = tempDir();
  const out = `${dir}/nodocker.parquet`;
  const r = await sysmon(
    ["run", "-o", out, "--sample-interval", "0.3", "--duration", "2.5", "--no-gpu"],
    { env: { DOCKER_HOST: `unix://${dir}/absent.sock` } },
  );
  assert.equal(r.code, 0, r.stderr);
  const notices = r.stderr.split("\n").filter((l) => /docker/i.test(l));
  assert.equal(notices.length, 1, r.stderr);
  const { rows } = await readParquet(out);
  assert.ok(rows.length >= 6);
  assert.ok(Object.keys(rows[0]!).every((k) => !k.startsWith("docker_")));
});

Deno.test("sysmon run --no-docker never touches the socket", async () => {
  const api = FakeDockerApi.start({ containers: [{ name: "x" }] });
  try {
    const r = await sysmon(
      [
        "run",
        "-o",
        `${tempDir()}/t.parquet`,
        "--sample-interval",
        "0.3",
        "--duration",
        "1.5",
        "--no-gpu",
        "--no-docker",
        "-q",
      ],
      { env: { DOCKER_HOST: api.host } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(api.requests.length, 0);
  } finally {
    await api.stop();
  }
});
