// The /metrics exposition without a socket: the text format and OpenMetrics (HELP and TYPE,
// counters' _total, escaping of hostile label values, `# EOF`), the host's metrics over the
// recorded /proc tree against a golden file (as node_exporter checks its collectors), GPUs,
// containers, the top processes grouped by name, the tracer's health, and the listener's
// rules (loopback, token, wrong guesses). After a deliberate change of the host's metrics:
// SYSMON_UPDATE_GOLDEN=1 deno test -A tests/metrics_test.ts, then review the diff.
import assert from "node:assert/strict";
import {
  escapeLabelValue,
  Exposition,
  type ExpositionFormat,
  negotiateFormat,
} from "../src/collect/exposition.ts";
import { readUname, writeNodeMetrics } from "../src/collect/node_metrics.ts";
import { ProcFs } from "../src/collect/proc/fs.ts";
import { meminfoEntries } from "../src/collect/proc/parse.ts";
import { SystemSampler } from "../src/collect/system.ts";
import { writeGpuMetrics } from "../src/collect/gpu/gpu_metrics.ts";
import { writeContainerMetrics } from "../src/collect/docker/container_metrics.ts";
import { parseStats } from "../src/collect/docker/docker_stats.ts";
import type { GpuReading } from "../src/schema/gpu_columns.ts";
import type { ProcessRecord } from "../src/schema/columns.ts";
import { TracerMetrics } from "../src/tracer/metrics.ts";
import { parseCommand } from "../src/tracer/control.ts";
import { metricsHandler, parseListen } from "../src/tracer/metrics_http.ts";
import { authConfig, TokenGuesses } from "../src/tracer/access.ts";
import type { ValidOptions } from "../src/tracer/options.ts";
import { idleStatus } from "../src/tracer/monitor.ts";
import { recordedJson } from "./fixtures/fake_docker_api.ts";
import { fixtureCopy } from "./helpers.ts";

const GOLDEN = new URL("./fixtures/golden/metrics_node.txt", import.meta.url).pathname;
const HOSTILE = 'a\\b"c\nd';

/**
 * Parses an exposition as a scraper would, failing on anything Prometheus refuses: a sample
 * before its family's TYPE, a family split in two, a repeated series, a bad line, and (in
 * OpenMetrics) a missing `# EOF` or a counter sample without `_total`.
 */
function parseExposition(text: string, format: ExpositionFormat) {
  const lines = text.split("\n");
  assert.equal(lines.pop(), "", "the text ends with a line feed");
  if (format === "openmetrics") assert.equal(lines.pop(), "# EOF");
  else assert.ok(!lines.includes("# EOF"));
  const types = new Map<string, string>();
  const series = new Map<string, number>();
  const done = new Set<string>();
  let family = "";
  for (const line of lines) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "HELP") {
        assert.ok(!done.has(meta[2]!), `family ${meta[2]} split`);
        if (family !== "") done.add(family);
        family = meta[2]!;
      } else {
        assert.equal(meta[2], family, `TYPE of ${meta[2]} without its HELP first`);
        types.set(family, meta[3]!);
      }
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$/
        .exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const type = types.get(family);
    assert.ok(type, `sample ${m[1]} before a TYPE`);
    const expected = format === "openmetrics" && type === "counter" ? `${family}_total` : family;
    assert.equal(m[1], expected, `sample ${m[1]} in family ${family} (${type})`);
    const key = m[1]! + (m[2] ?? "");
    assert.ok(!series.has(key), `series repeated: ${key}`);
    series.set(key, Number(m[3]));
    assert.ok(Number.isFinite(Number(m[3])), line);
  }
  return { types, series };
}

function sampledFixture() {
  const tree = fixtureCopy();
  // uname(2)'s fields from the kernel's files (the recorded tree has none: they are added).
  Deno.mkdirSync(`${tree.proc}/sys/kernel`, { recursive: true });
  for (
    const [f, v] of [
      ["ostype", "Linux"],
      ["osrelease", "6.18.44-fc-v657"],
      ["version", "#1 SMP PREEMPT_DYNAMIC"],
      ["hostname", "fixture"],
      ["domainname", "(none)"],
    ]
  ) Deno.writeTextFileSync(`${tree.proc}/sys/kernel/${f}`, `${v}\n`);
  const fs = new ProcFs(tree);
  const sampler = new SystemSampler({
    fs,
    clock: { wallMs: () => 1_795_000_000_000, monoMs: () => 0 },
    useUtc: true,
  });
  sampler.sample();
  return { sampler, uname: { ...readUname(fs), machine: "x86_64" } };
}

Deno.test("Exposition writes HELP and TYPE once per family, and leaves out families without samples", () => {
  const w = new Exposition("prometheus");
  w.family("x_total", "counter", "Things.").sample({ a: "1" }, 2).sample({ a: "2" }, 3.5);
  w.family("empty", "gauge", "Nothing read.").sample(null, null).sample({ a: "1" }, NaN);
  w.family("g", "gauge", "A gauge.").sample(null, 1e21);
  assert.equal(
    w.text(),
    '# HELP x_total Things.\n# TYPE x_total counter\nx_total{a="1"} 2\nx_total{a="2"} 3.5\n' +
      "# HELP g A gauge.\n# TYPE g gauge\ng 1e+21\n",
  );
  assert.throws(() => new Exposition().family("bytes", "counter", "no _total"), /_total/);
  assert.throws(() => new Exposition().family("a", "gauge", "").family("a", "gauge", ""), /twice/);
  assert.throws(() => new Exposition().family("bad-name", "gauge", ""), /bad metric name/);
});

Deno.test("label values escape backslash, double quote and line feed; HELP escapes too", () => {
  assert.equal(escapeLabelValue(HOSTILE), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue("plain (name) ü ✓"), "plain (name) ü ✓");
  for (const format of ["prometheus", "openmetrics"] as const) {
    const w = new Exposition(format);
    w.family("p", "gauge", 'help with \\ and\nline "quoted"').sample({ name: HOSTILE }, 1);
    const text = w.text();
    assert.ok(text.includes('p{name="a\\\\b\\"c\\nd"} 1\n'), text);
    const help = text.split("\n")[0]!;
    assert.equal(
      help,
      format === "openmetrics"
        ? '# HELP p help with \\\\ and\\nline \\"quoted\\"'
        : '# HELP p help with \\\\ and\\nline "quoted"',
    );
    const parsed = parseExposition(text, format);
    assert.equal(parsed.series.size, 1);
  }
});

Deno.test("OpenMetrics: counters' family without _total, untyped as unknown, and # EOF at the end", () => {
  const w = new Exposition("openmetrics");
  w.family("node_cpu_seconds_total", "counter", "Seconds.").sample({ cpu: "0", mode: "idle" }, 1);
  w.family("node_vmstat_pswpin", "untyped", "Pages.").sample(null, 0);
  assert.equal(
    w.text(),
    "# HELP node_cpu_seconds Seconds.\n# TYPE node_cpu_seconds counter\n" +
      'node_cpu_seconds_total{cpu="0",mode="idle"} 1\n' +
      "# HELP node_vmstat_pswpin Pages.\n# TYPE node_vmstat_pswpin unknown\nnode_vmstat_pswpin 0\n" +
      "# EOF\n",
  );
});

Deno.test("negotiateFormat() answers OpenMetrics to Prometheus' Accept header, text otherwise", () => {
  // What Prometheus 2.42 sends.
  const prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;" +
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  assert.equal(negotiateFormat(prometheus), "openmetrics");
  assert.equal(negotiateFormat("application/openmetrics-text; version=1.0.0"), "openmetrics");
  assert.equal(negotiateFormat("text/plain;version=0.0.4"), "prometheus");
  assert.equal(negotiateFormat(null), "prometheus");
  assert.equal(negotiateFormat("*/*"), "prometheus");
  assert.equal(negotiateFormat("text/plain, application/openmetrics-text;q=0.5"), "prometheus");
  assert.equal(negotiateFormat("application/openmetrics-text;q=0"), "prometheus");
});

Deno.test("meminfoEntries() keeps the kernel's names and tells kB fields from counts", () => {
  assert.deepEqual(meminfoEntries("MemTotal:  2 kB\nHugePages_Total:  3\nActive(anon):  1 kB\n"), [
    { name: "MemTotal", value: 2048, bytes: true },
    { name: "HugePages_Total", value: 3, bytes: false },
    { name: "Active(anon)", value: 1024, bytes: true },
  ]);
});

Deno.test("the host's metrics over the recorded /proc tree match the golden exposition", () => {
  const { sampler, uname } = sampledFixture();
  const w = new Exposition("prometheus");
  writeNodeMetrics(w, sampler.latest!, uname);
  const text = w.text();
  if (Deno.env.get("SYSMON_UPDATE_GOLDEN") === "1") Deno.writeTextFileSync(GOLDEN, text);
  assert.equal(text, Deno.readTextFileSync(GOLDEN));
  const { series, types } = parseExposition(text, "prometheus");
  // Checked by hand against the recorded files (proc/stat, meminfo, loadavg, net/dev, …).
  assert.equal(series.get('node_cpu_seconds_total{cpu="0",mode="idle"}'), 749.76); // 74976 jiffies
  assert.equal(series.get('node_cpu_seconds_total{cpu="1",mode="user"}'), 24.39);
  assert.equal(series.get("node_memory_MemTotal_bytes"), 24684092 * 1024);
  assert.equal(series.get("node_memory_MemAvailable_bytes"), 24374076 * 1024);
  assert.equal(series.get("node_memory_HugePages_Total"), 0); // a count: no _bytes
  assert.ok(series.has("node_memory_Active_anon_bytes"));
  assert.equal(series.get("node_load15"), 0.02);
  assert.equal(series.get('node_network_receive_bytes_total{device="lo"}'), 3193);
  assert.equal(series.get('node_disk_read_bytes_total{device="vda"}'), 1964098 * 512);
  assert.equal(series.get('node_disk_io_time_seconds_total{device="vda"}'), 5.76);
  assert.ok(![...series.keys()].some((k) => /device="(loop|zram)/.test(k)), "loop, zram left out");
  assert.equal(series.get("node_pressure_cpu_waiting_seconds_total"), 6.476334);
  assert.equal(series.get("node_boot_time_seconds"), 1795635514);
  assert.equal(series.get("node_context_switches_total"), 334032);
  assert.equal(series.get("node_forks_total"), 2972);
  assert.equal(series.get("node_filefd_allocated"), 310);
  assert.equal(series.get("node_time_seconds"), 1_795_000_000);
  assert.ok([...series.keys()].some((k) => k.startsWith('node_uname_info{sysname="Linux"')));
  assert.equal(types.get("node_cpu_seconds_total"), "counter");
  assert.equal(types.get("node_memory_MemAvailable_bytes"), "gauge");
  assert.equal(types.get("node_vmstat_pswpin"), "untyped"); // as node_exporter types it
  for (const [name, type] of types) {
    assert.equal(type === "counter", name.endsWith("_total"), `${name} is a ${type}`);
  }
});

Deno.test("a /proc without pressure, vmstat or net/dev: those families are left out, the rest kept", () => {
  const tree = fixtureCopy();
  for (const f of ["pressure", "vmstat", "net/dev"]) {
    Deno.removeSync(`${tree.proc}/${f}`, { recursive: true });
  }
  const sampler = new SystemSampler({ fs: new ProcFs(tree) });
  sampler.sample();
  const w = new Exposition("openmetrics");
  writeNodeMetrics(w, sampler.latest!, null);
  const { series } = parseExposition(w.text(), "openmetrics");
  assert.ok(![...series.keys()].some((k) => /^node_(pressure|vmstat|network)_/.test(k)));
  assert.equal(series.get('node_scrape_collector_success{collector="pressure"}'), 0);
  assert.equal(series.get('node_scrape_collector_success{collector="cpu"}'), 1);
  assert.ok(series.has("node_memory_MemAvailable_bytes"));
});

const H100: GpuReading = {
  index: 0,
  uuid: "GPU-4f9c…",
  name: "NVIDIA H100 80GB HBM3",
  utilizationPercent: 37,
  memUtilizationPercent: 12,
  totalBytes: 81559 * 1048576,
  usedBytes: 1234 * 1048576,
  freeBytes: 80325 * 1048576,
  tempC: 41,
  powerW: 123.45,
  powerLimitW: 700,
  smClockMhz: 1980,
  memClockMhz: 2619,
  fanPercent: null,
  pstate: 0,
};

Deno.test("GPUs are written under dcgm-exporter's names, labels and units (MiB, W, MHz, %)", () => {
  const w = new Exposition("prometheus");
  writeGpuMetrics(w, [H100, { ...H100, index: 1, uuid: "GPU-2", utilizationPercent: null }], "h");
  const { series } = parseExposition(w.text(), "prometheus");
  const l0 = '{gpu="0",UUID="GPU-4f9c…",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",' +
    'Hostname="h"}';
  assert.equal(series.get(`DCGM_FI_DEV_GPU_UTIL${l0}`), 37);
  assert.equal(series.get(`DCGM_FI_DEV_FB_USED${l0}`), 1234);
  assert.equal(series.get(`DCGM_FI_DEV_FB_FREE${l0}`), 80325);
  assert.equal(series.get(`DCGM_FI_DEV_GPU_TEMP${l0}`), 41);
  assert.equal(series.get(`DCGM_FI_DEV_POWER_USAGE${l0}`), 123.45);
  assert.equal(series.get(`DCGM_FI_DEV_SM_CLOCK${l0}`), 1980);
  assert.ok(![...series.keys()].some((k) => k.startsWith("DCGM_FI_DEV_FAN_SPEED")), "no fan");
  // A reading the GPU does not report (MIG: utilisation) is no sample, never 0.
  assert.ok(![...series.keys()].some((k) => k.startsWith('DCGM_FI_DEV_GPU_UTIL{gpu="1"')));
  assert.ok([...series.keys()].some((k) => k.startsWith('DCGM_FI_DEV_FB_USED{gpu="1"')));
  const none = new Exposition();
  writeGpuMetrics(none, [], "h");
  assert.equal(none.text(), "");
});

Deno.test("containers are written under cAdvisor's names, with hostile names escaped", () => {
  const stats = parseStats(recordedJson("stats_sleeper_oneshot.json"), 0)!;
  const w = new Exposition("openmetrics");
  writeContainerMetrics(w, [
    { id: "c".repeat(64), name: "web", image: "docker.io/library/nginx:1", stats, openFiles: 7 },
    { id: "d".repeat(64), name: HOSTILE, image: null, stats, openFiles: null },
  ]);
  const text = w.text();
  const { series, types } = parseExposition(text, "openmetrics");
  const web = `{id="/docker/${"c".repeat(64)}",image="docker.io/library/nginx:1",name="web"}`;
  assert.equal(series.get(`container_cpu_usage_seconds_total${web}`), stats.cpuTotalNs! / 1e9);
  assert.equal(series.get(`container_memory_working_set_bytes${web}`), stats.memUsed);
  assert.equal(series.get(`container_network_receive_bytes_total${web}`), stats.netRx);
  assert.equal(series.get(`sysmon_container_init_open_fds${web}`), 7);
  assert.equal(types.get("container_cpu_usage_seconds"), "counter");
  assert.ok(text.includes('name="a\\\\b\\"c\\nd"'), "the hostile name escaped");
});

function processRecord(name: string, over: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    pid: 1,
    ppid: 0,
    name,
    cmdline: null,
    user: null,
    cpu_percent: 50,
    rss_bytes: 1000,
    threads: 2,
    read_bytes_per_sec: 10,
    write_bytes_per_sec: null,
    container: null,
    gpu_memory_bytes: null,
    ...over,
  };
}

/** A TracerMetrics fed as monitorToParquet feeds it, over the recorded tree. */
function tracerMetrics() {
  const { sampler } = sampledFixture();
  const m = new TracerMetrics();
  const options: ValidOptions = {
    outputFile: "trace.parquet",
    sampleInterval: 1,
    writeInterval: 10,
    duration: null,
    enableGpu: false,
    enableDocker: false,
    useUtc: true,
    topProcesses: 10,
    format: "parquet",
  };
  m.attach(sampler, [], options);
  const status = idleStatus("trace.parquet");
  let due = 1_795_000_000_000;
  const sample = (processes: ProcessRecord[], lateMs = 2) => {
    status.samples++;
    due += 1000;
    m.sampled(status, { processes }, { dueMs: due, lateMs });
  };
  return { m, status, sample, skip: () => (due += 3000) };
}

Deno.test("top processes are grouped by name: gauges now, CPU and I/O counters that never go back", () => {
  const { m, sample } = tracerMetrics();
  sample([processRecord("worker"), processRecord("worker", { pid: 2 }), processRecord(HOSTILE)]);
  let s = parseExposition(m.render("prometheus"), "prometheus").series;
  assert.equal(s.get('sysmon_top_process_count{groupname="worker"}'), 2);
  assert.equal(s.get('sysmon_top_process_threads{groupname="worker"}'), 4);
  assert.equal(s.get('sysmon_top_process_resident_memory_bytes{groupname="worker"}'), 2000);
  assert.equal(s.get('sysmon_top_process_count{groupname="a\\\\b\\"c\\nd"}'), 1);
  const cpu1 = s.get('sysmon_top_process_cpu_seconds_total{groupname="worker"}')!;
  assert.ok(Math.abs(cpu1 - 1) < 0.01, `2 × 50 % for 1 s: ${cpu1}`);
  // The next sample lists only one worker: the gauges drop, the counter still grows.
  sample([processRecord("worker", { cpu_percent: 100 })]);
  s = parseExposition(m.render("prometheus"), "prometheus").series;
  assert.equal(s.get('sysmon_top_process_count{groupname="worker"}'), 1);
  const cpu2 = s.get('sysmon_top_process_cpu_seconds_total{groupname="worker"}')!;
  assert.ok(cpu2 > cpu1 + 0.9, `${cpu2} after ${cpu1}`);
  assert.ok(!s.has('sysmon_top_process_count{groupname="a\\\\b\\"c\\nd"}'), "left the list");
  // 2 workers × 10 B/s for 1 s, then 1 × 10 B/s for 1 s.
  assert.equal(s.get('sysmon_top_process_read_bytes_total{groupname="worker"}'), 30);
});

Deno.test("the tracer's health: samples, late and skipped samples, writes and their errors, sources", () => {
  const { m, status, sample, skip } = tracerMetrics();
  sample([]);
  sample([], 500); // half an interval late
  skip(); // a suspended machine: three slots missed
  sample([]);
  m.wrote({ ...status, error: "No space left on device" });
  m.wrote({ ...status, error: null, rowsWritten: 3, fileBytes: 4096 });
  const { series } = parseExposition(m.render("openmetrics"), "openmetrics");
  assert.equal(series.get("sysmon_samples_total"), 3);
  assert.equal(series.get("sysmon_samples_late_total"), 1);
  assert.equal(series.get("sysmon_samples_skipped_total"), 3);
  assert.equal(series.get("sysmon_writes_total"), 2);
  assert.equal(series.get("sysmon_write_errors_total"), 1);
  assert.equal(series.get("sysmon_rows_written"), 3);
  assert.equal(series.get('sysmon_source_up{source="meminfo"}'), 1);
  assert.equal(series.get("sysmon_sources_unavailable"), 0);
  assert.ok(series.has('node_cpu_seconds_total{cpu="0",mode="idle"}'));
});

Deno.test("render() builds the text once per sample: a scrape between samples costs nothing", () => {
  const { m, sample } = tracerMetrics();
  sample([processRecord("a")]);
  const first = m.render("prometheus");
  assert.equal(m.render("prometheus"), first); // the same string, from the cache
  assert.notEqual(m.render("openmetrics"), first);
  sample([processRecord("a")]);
  assert.notEqual(m.render("prometheus"), first);
  // A fresh text for every scrape stays far under the 5 ms a scrape may cost.
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    sample([processRecord("a"), processRecord("b")]);
    m.render(i % 2 ? "prometheus" : "openmetrics");
  }
  const each = (performance.now() - t0) / 100;
  assert.ok(each < 5, `${each.toFixed(2)} ms per render`);
});

Deno.test("parseListen() takes HOST:PORT, [IPv6]:PORT, :PORT and PORT (the last two on loopback)", () => {
  assert.deepEqual(parseListen("127.0.0.1:9101"), { hostname: "127.0.0.1", port: 9101 });
  assert.deepEqual(parseListen("0.0.0.0:9101"), { hostname: "0.0.0.0", port: 9101 });
  assert.deepEqual(parseListen("[::1]:9101"), { hostname: "::1", port: 9101 });
  assert.deepEqual(parseListen(":9101"), { hostname: "127.0.0.1", port: 9101 });
  assert.deepEqual(parseListen("9101"), { hostname: "127.0.0.1", port: 9101 });
  assert.deepEqual(parseListen("localhost:0"), { hostname: "localhost", port: 0 });
  for (const bad of ["", "host", "1.2.3.4:", "1.2.3.4:99999", "::1:9101", "a:b", "http://x:1"]) {
    assert.throws(() => parseListen(bad), /--listen/, bad);
  }
});

const TOKEN = "0123456789abcdef0123456789abcdef";
const peer = (hostname: string) =>
  ({ remoteAddr: { transport: "tcp", hostname, port: 1 } }) as Deno.ServeHandlerInfo<Deno.NetAddr>;

Deno.test("the listener on loopback: no token, but only loopback names; GET and HEAD only", async () => {
  const h = metricsHandler(authConfig({ host: "127.0.0.1" }), (f) => `# ${f}\n`);
  const ok = await h(new Request("http://127.0.0.1:9101/metrics"), peer("127.0.0.1"));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(await ok.text(), "# prometheus\n");
  const om = await h(
    new Request("http://localhost:9101/metrics", {
      headers: { accept: "application/openmetrics-text; version=1.0.0" },
    }),
  );
  assert.match(om.headers.get("content-type")!, /^application\/openmetrics-text; version=1\.0\.0/);
  assert.equal(await om.text(), "# openmetrics\n");
  const rebound = await h(new Request("http://evil.example:9101/metrics"));
  assert.equal(rebound.status, 421);
  await rebound.body?.cancel();
  const post = await h(new Request("http://127.0.0.1:9101/metrics", { method: "POST" }));
  assert.equal(post.status, 405);
  await post.body?.cancel();
  const other = await h(new Request("http://127.0.0.1:9101/api"));
  assert.equal(other.status, 404);
  await other.body?.cancel();
  const head = await h(new Request("http://127.0.0.1:9101/metrics", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
});

Deno.test("the listener off loopback needs the token; wrong tokens wait, doubling", async () => {
  const auth = authConfig({ host: "0.0.0.0", token: TOKEN });
  let now = 0;
  const guesses = new TokenGuesses({ now: () => now });
  const h = metricsHandler(auth, () => "x 1\n", guesses);
  const req = (headers: Record<string, string> = {}, query = "") =>
    h(new Request(`http://10.0.0.5:9101/metrics${query}`, { headers }), peer("10.0.0.9"));
  const none = await req();
  assert.equal(none.status, 401);
  assert.match(await none.text(), /Authorization: Bearer/);
  assert.equal((await req({ authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await req({}, `?token=${TOKEN}`)).status, 200);
  for (let i = 0; i < 5; i++) {
    const wrong = await req({ authorization: `Bearer wrong-token-number-${i}` });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
  }
  const waiting = await req({ authorization: `Bearer ${TOKEN}` });
  assert.equal(waiting.status, 429, "the right token too, while the wait lasts");
  assert.equal(waiting.headers.get("retry-after"), "1");
  await waiting.body?.cancel();
  now += 1500;
  assert.equal((await req({ authorization: `Bearer ${TOKEN}` })).status, 200);
  // Without --token, off loopback a token is made up; --no-auth opens it, with a warning.
  assert.ok(authConfig({ host: "0.0.0.0" }).token!.length >= 32);
  const open = authConfig({ host: "0.0.0.0", noAuth: true, exposes: "read the metrics" });
  assert.equal(open.token, null);
  assert.match(open.warning!, /read the metrics/);
});

Deno.test("the --control protocol's metrics command: the format is checked, prometheus by default", () => {
  assert.deepEqual(parseCommand('{"cmd":"metrics","id":3,"format":"openmetrics"}'), {
    cmd: "metrics",
    id: 3,
    format: "openmetrics",
  });
  assert.deepEqual(parseCommand('{"cmd":"metrics"}'), {
    cmd: "metrics",
    id: undefined,
    format: "prometheus",
  });
  assert.throws(() => parseCommand('{"cmd":"metrics","format":"json"}'), /format must be/);
});
