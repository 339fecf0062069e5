// Debian's Prometheus (apt-get install prometheus; .ci/run installs it) scraping a real
// `sysmon run --listen` every second on loopback ports: the target is up, and PromQL over what
// it scraped answers (`rate(node_cpu_seconds_total[10s])`), through Prometheus' HTTP API.
// Skipped with a message where the package is absent.
import assert from "node:assert/strict";
import { spawnSysmon, tempDir } from "./helpers.ts";

const PROMETHEUS = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!PROMETHEUS) {
  console.warn("prometheus_test: skipped: no prometheus (apt-get install -y prometheus)");
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Waits until `url` answers 200 with node_cpu_seconds_total (the first sample is taken). */
async function served(url: string, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok && (await res.text()).includes("node_cpu_seconds_total{")) return;
      await res.body?.cancel();
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type Vector = { metric: Record<string, string>; value: [number, string] }[];

/** An instant query through Prometheus' HTTP API; [] while it cannot answer yet. */
async function query(port: number, promql: string): Promise<Vector> {
  try {
    const res = await fetch(
      `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`,
      { signal: AbortSignal.timeout(5000) },
    );
    const body = await res.json();
    return body.status === "success" ? body.data.result as Vector : [];
  } catch {
    return []; // not listening yet
  }
}

/** Polls `promql` until `ok` holds for its answer; fails with the last answer after `ms`. */
async function until(port: number, promql: string, ok: (v: Vector) => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  let last: Vector = [];
  while (Date.now() < end) {
    last = await query(port, promql);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${promql} never answered as expected; last: ${JSON.stringify(last)}`);
}

Deno.test({
  name: "Debian's Prometheus scrapes sysmon run --listen every second: up is 1, and rate() answers",
  ignore: !PROMETHEUS,
  fn: async () => {
    const dir = tempDir();
    const sysmonPort = freePort();
    const promPort = freePort();
    const tracer = spawnSysmon([
      "run",
      "-o",
      `${dir}/trace.parquet`,
      "--sample-interval",
      "1",
      "--listen",
      `127.0.0.1:${sysmonPort}`,
      "--no-gpu",
      "--no-docker",
      "-q",
    ], { stdin: "null", stderr: "piped" });
    const tracerErr = new Response(tracer.stderr).text();
    Deno.writeTextFileSync(
      `${dir}/prometheus.yml`,
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: sysmon",
        "    static_configs:",
        `      - targets: ['127.0.0.1:${sysmonPort}']`,
        "",
      ].join("\n"),
    );
    const prom = new Deno.Command(PROMETHEUS!, {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/tsdb`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const promLog = new Response(prom.stderr).text();
    const guard = setTimeout(() => {
      prom.kill("SIGKILL");
      tracer.kill("SIGKILL");
    }, 150_000);
    try {
      await served(`http://127.0.0.1:${sysmonPort}/metrics`);
      const up = await until(promPort, 'up{job="sysmon"}', (v) => v[0]?.value[1] === "1");
      assert.equal(up[0]!.metric.instance, `127.0.0.1:${sysmonPort}`);
      const rate = await until(promPort, "rate(node_cpu_seconds_total[10s])", (v) => v.length > 0);
      const idle = rate.find((s) => s.metric.cpu === "0" && s.metric.mode === "idle");
      assert.ok(idle, JSON.stringify(rate.slice(0, 3)));
      const perCpu = Number(idle.value[1]);
      assert.ok(perCpu >= 0 && perCpu <= 1.05, `idle seconds per second of cpu0: ${perCpu}`);
      for (const q of ["node_memory_MemAvailable_bytes", "node_load1", "sysmon_samples_total"]) {
        const v = await query(promPort, q);
        assert.equal(v.length, 1, q);
      }
      const rx = await query(promPort, "node_network_receive_bytes_total");
      assert.ok(rx.some((s) => s.metric.device === "lo"), JSON.stringify(rx));
      // Every scrape succeeded, each a second apart, and none was refused as malformed.
      const targets = await (await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`)).json();
      const t = targets.data.activeTargets[0];
      assert.equal(t.health, "up");
      assert.equal(t.lastError, "");
      assert.equal(t.scrapeInterval, "1s");
    } finally {
      clearTimeout(guard);
      prom.kill("SIGTERM");
      tracer.kill("SIGTERM");
      const [p, s] = await Promise.all([prom.status, tracer.status]);
      const log = await promLog;
      const err = await tracerErr;
      assert.equal(s.code, 0, err);
      assert.ok(p.signal === null || p.signal === "SIGTERM", log.slice(-2000));
    }
  },
});
