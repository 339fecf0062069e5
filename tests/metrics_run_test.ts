// /metrics from real processes: `sysmon run --listen` with two GPUs (the fake nvidia-smi
// replaying an H100 capture) and two containers (the fake Engine API), its token off
// loopback, its refusals; and `sysmon serve`, which asks the tracer it runs over --control.
import assert from "node:assert/strict";
import { FakeDockerApi } from "./fixtures/fake_docker_api.ts";
import { startLiveServe } from "./fault_kit.ts";
import { installFakeNvidiaSmi, spawnSysmon, sysmon, tempDir } from "./helpers.ts";

const H100 = new URL(
  "./fixtures/captures/nvidia-smi/linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
  import.meta.url,
).pathname;

/** `sysmon run ARGS --listen LISTEN`, up to the line that says where /metrics is. */
async function startListening(args: string[], env: Record<string, string> = {}) {
  const child = spawnSysmon(["run", ...args], { stdin: "null", stderr: "piped", env });
  const guard = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let err = "";
  let m: RegExpExecArray | null = null;
  while (
    !(m = /metrics on (http:\/\/\S+\/metrics)( \(send 'Authorization: Bearer (\S+)'\))?/.exec(err))
  ) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`sysmon run said no address: ${err}`);
    err += value;
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return err;
      err += value;
    }
  })();
  const stop = async () => {
    child.kill("SIGTERM");
    const status = await child.status;
    clearTimeout(guard);
    return { code: status.code, stderr: await rest };
  };
  return { url: m[1]!, token: m[3] ?? null, stop };
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** Scrapes until `re` matches (the first sample, or the GPUs' and containers' first readings). */
async function scrapeUntil(url: string, re: RegExp, headers: Record<string, string> = {}) {
  const end = Date.now() + 30_000;
  for (;;) {
    const r = await scrape(url, headers);
    if (r.status === 200 && re.test(r.text)) return r;
    if (Date.now() > end) throw new Error(`no ${re} in ${r.status}: ${r.text.slice(0, 2000)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

Deno.test("sysmon run --listen serves node_exporter's, dcgm-exporter's and cAdvisor's names", async () => {
  const api = FakeDockerApi.start({
    containers: [
      { name: "web.front-1", cpus: 0.5, memUsage: 64 << 20, memLimit: 256 << 20 },
      { name: "db_main", cpus: 0.25, netRxPerSec: 1000 },
    ],
  });
  const smi = installFakeNvidiaSmi();
  const dir = tempDir();
  const run = await startListening(
    ["-o", `${dir}/t.parquet`, "--sample-interval", "0.5", "--listen", "127.0.0.1:0"],
    {
      DOCKER_HOST: api.host,
      PATH: `${smi}:${Deno.env.get("PATH") ?? ""}`,
      FAKE_NVIDIA_SMI_CAPTURE: H100,
      FAKE_NVIDIA_SMI_GPUS: "2",
    },
  );
  try {
    assert.match(run.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.equal(run.token, null, "no token on loopback");
    const r = await scrapeUntil(
      run.url,
      /DCGM_FI_DEV_FB_USED\{gpu="1"[^]*container_cpu_usage_seconds_total\{[^}]*name="web\.front-1"/,
    );
    assert.equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
    const t = r.text;
    assert.match(t, /^node_cpu_seconds_total\{cpu="0",mode="idle"\} \d/m);
    assert.match(t, /^node_memory_MemAvailable_bytes \d+$/m);
    assert.match(t, /^node_load1 [\d.]+$/m);
    assert.match(t, /^node_network_receive_bytes_total\{device="[^"]+"\} \d+$/m);
    assert.match(
      t,
      /^DCGM_FI_DEV_GPU_TEMP\{gpu="0",UUID="GPU-[^"]+",device="nvidia0",modelName="NVIDIA H100[^"]*",Hostname="[^"]*"\} \d+$/m,
    );
    const used = /^DCGM_FI_DEV_FB_USED\{gpu="0"[^}]*\} (\d+)$/m.exec(t);
    assert.ok(used && Number(used[1]) <= 81559, "framebuffer in MiB");
    assert.match(t, /^container_memory_working_set_bytes\{[^}]*name="web\.front-1"\} \d+$/m);
    assert.match(t, /^container_network_receive_bytes_total\{[^}]*name="db_main"\} \d+$/m);
    assert.match(t, /^sysmon_source_up\{source="gpu"\} 1$/m);
    assert.match(t, /^sysmon_source_up\{source="docker"\} 1$/m);
    // OpenMetrics when asked, as Prometheus asks.
    const om = await scrape(run.url, { accept: "application/openmetrics-text;version=1.0.0" });
    assert.match(om.type!, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(om.text.endsWith("# EOF\n"));
    assert.match(om.text, /^# TYPE node_cpu_seconds counter$/m);
    // The samples go on: the counter grows between two scrapes a sample apart.
    const n = (text: string) => Number(/^sysmon_samples_total (\d+)$/m.exec(text)![1]);
    const before = n(om.text);
    await new Promise((res) => setTimeout(res, 1200));
    assert.ok(n((await scrape(run.url)).text) > before);
  } finally {
    const s = await run.stop();
    await api.stop();
    assert.equal(s.code, 0, s.stderr);
  }
});

Deno.test("sysmon run --listen off loopback needs its token; a bad address or a taken port exits 2", async () => {
  const dir = tempDir();
  const run = await startListening([
    "-o",
    `${dir}/t.parquet`,
    "--sample-interval",
    "0.5",
    "--no-gpu",
    "--no-docker",
    "--listen",
    "0.0.0.0:0",
  ], { SYSMON_TOKEN: "" });
  try {
    assert.ok(run.token && run.token.length >= 32, "a token made up and said");
    const none = await scrape(run.url);
    assert.equal(none.status, 401);
    const ok = await scrapeUntil(run.url, /node_load1/, { authorization: `Bearer ${run.token}` });
    assert.equal(ok.status, 200);
    const port = Number(new URL(run.url).port);
    // The port is taken now: a second tracer cannot listen there, and says so before sampling.
    const out = `${dir}/u.parquet`;
    const taken = await sysmon(["run", "-o", out, "--listen", `127.0.0.1:${port}`, "--no-gpu"]);
    assert.equal(taken.code, 2, taken.stderr);
    assert.match(taken.stderr, /--listen: cannot listen: .*in use/);
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
  } finally {
    const s = await run.stop();
    assert.equal(s.code, 0, s.stderr);
  }
  const bad = await sysmon(["run", "-o", `${dir}/v.parquet`, "--listen", "nowhere", "--no-gpu"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--listen "nowhere": give HOST:PORT/);
  const short = await sysmon([
    "run",
    "-o",
    `${dir}/w.parquet`,
    "--listen",
    "0.0.0.0:0",
    "--token",
    "short",
  ]);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--token \(or SYSMON_TOKEN\): the token must be at least 16/);
});

Deno.test("sysmon serve serves /metrics while it traces, asking its tracer over --control", async () => {
  const dir = tempDir();
  const serve = await startLiveServe(dir);
  try {
    const url = new URL("metrics", serve.url).href;
    const r = await scrapeUntil(url, /^sysmon_samples_total [1-9]/m);
    assert.equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
    assert.match(r.text, /^node_cpu_seconds_total\{cpu="0",mode="idle"\} \d/m);
    const om = await scrape(url, { accept: "application/openmetrics-text;version=1.0.0" });
    assert.ok(om.text.endsWith("# EOF\n"));
    // Stopped from the page: no tracer, so nothing to serve (503), until it starts again.
    const stop = await fetch(new URL("api/trace/stop", serve.url), { method: "POST" });
    assert.equal(stop.status, 200);
    await stop.body?.cancel();
    const idle = await scrape(url);
    assert.equal(idle.status, 503);
    assert.match(idle.text, /not tracing/);
  } finally {
    const s = await serve.stop();
    assert.equal(s.code, 0, s.stderr);
  }
});
