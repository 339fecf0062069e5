// The dashboard's pages and fragments, through app.request() (no socket), over traces that
// `sysmon run` and sysmon's Parquet writer produced, read by the real data layer.
import assert from "node:assert/strict";
import {
  type ColumnDef,
  columnDef,
  cpuCoreColumns as coreColumns,
  type Row,
} from "../src/schema/columns.ts";
import { newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { createApp } from "../src/server/app.ts";
import { openTrace } from "../src/query/source.ts";
import { DEFAULT_STATE, pageUrl, parseState, stateQuery, TABS } from "../src/views/state.ts";
import { MAIN, readParquet, spawnSysmon, sysmon, tempDir } from "./helpers.ts";
import { TRACER_V8_FLAGS } from "../src/tracer/v8_flags.ts";

/** One 3-second trace for the whole file (sysmon run, 0.2 s samples). */
let traceOnce: Promise<string> | null = null;
function trace(): Promise<string> {
  return traceOnce ??= (async () => {
    const out = `${tempDir()}/trace.parquet`;
    const r = await sysmon(["run", "-o", out, "--sample-interval", "0.2", "--duration", "3", "-q"]);
    assert.equal(r.code, 0, r.stderr);
    return out;
  })();
}

function app(file: string) {
  return createApp({ file, refreshMs: 10_000 });
}

async function get(a: ReturnType<typeof app>, url: string, headers: HeadersInit = {}) {
  const res = await a.request(url, { headers });
  return { res, text: await res.text() };
}

/** The panel's data blocks (the tab's JSON). */
function tabData(html: string): { blocks: { t0: number; dt: number[]; s: (number | null)[][] }[] } {
  const m = /<script type="application\/json"\s+class="tab-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, "the panel carries its data");
  return JSON.parse(m[1]!);
}

/** Every chart configuration of a fragment. */
function chartConfigs(
  html: string,
): { id: string; kind: string; series: { label: string; i: number }[] }[] {
  return [
    ...html.matchAll(/<script type="application\/json"\s+class="chart-config">(.*?)<\/script>/gs),
  ]
    .map((m) => JSON.parse(m[1]!));
}

/** Writes a trace with sysmon's Parquet writer: rows of a real trace, re-timed, plus `extra` columns. */
async function writeTrace(path: string, extra: Record<string, number>, rows = 20): Promise<void> {
  const real = (await readParquet(await trace())).rows;
  const t = new ParquetTrace({ path, utc: true });
  const defs = (name: string): ColumnDef =>
    columnDef(name) ?? { name, kind: "double", unit: "percent", help: "test column" };
  const list: Row[] = [];
  const t0 = Date.UTC(2024, 4, 1, 12);
  for (let i = 0; i < rows; i++) {
    const row: Row = { timestamp: (t0 + i * 1000) * 1000 };
    for (const [c, v] of Object.entries(real[i % real.length]!)) {
      if (c === "timestamp") continue;
      row[c] = typeof v === "bigint" ? Number(v) : (v as number | string | null);
    }
    for (const [c, v] of Object.entries(extra)) row[c] = v + i;
    list.push(row);
  }
  t.add(list, defs);
  t.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: newTraceId() }, t.columns));
}

const HOSTILE = [
  "<img src=x onerror=alert(1)>",
  "</script><script>alert(2)</script>",
  "\"'><svg onload=alert(3)>",
];

// ---- state in the URL

Deno.test("parseState() reads every control and stateQuery() writes it back", () => {
  const q = new URLSearchParams(
    "file=t.parquet&tab=cpu&range=3h&zoom=1000-2000&tz=Asia/Tokyo&src=UTC&smooth=7&pause=1&top=3&c=a&c=b&at=1500&mode=live&pid=42&pt=graph",
  );
  const { state, errors } = parseState(q);
  assert.deepEqual(errors, {});
  assert.deepEqual(state, {
    file: "t.parquet",
    tab: "cpu",
    range: "3h",
    zoom: { start: 1000, end: 2000 },
    tz: "Asia/Tokyo",
    src: "UTC",
    smooth: 7,
    pause: true,
    top: 3,
    containers: ["a", "b"],
    at: 1500,
    mode: "live",
    pid: 42,
    ptview: "graph",
  });
  assert.deepEqual(parseState(stateQuery(state)).state, state);
  assert.equal(pageUrl(DEFAULT_STATE), "/");
});

Deno.test("parseState() rejects bad values with a message and keeps the default", () => {
  const { state, errors } = parseState(
    new URLSearchParams(
      "tz=Mars/Olympus_Mons&range=5y&smooth=99&zoom=abc&top=0&src=moon&mode=radio&pid=-3",
    ),
  );
  assert.equal(state.tz, "local");
  assert.equal(state.range, "30m");
  assert.equal(state.smooth, 3);
  assert.equal(state.zoom, null);
  assert.equal(state.top, 5);
  assert.equal(state.src, "auto");
  assert.equal(state.mode, "auto");
  assert.equal(state.pid, null);
  assert.match(errors.tz!, /'Mars\/Olympus_Mons' is not a time zone/);
  assert.ok(errors.range && errors.smooth && errors.zoom && errors.top && errors.src);
  assert.match(errors.mode!, /Unknown data source mode 'radio'/);
  assert.match(errors.pid!, /'-3' is not a process id/);
});

Deno.test("coreColumns() orders cores naturally (cpu_2 before cpu_10)", () => {
  const names = new Set([
    "cpu_10_utilization",
    "cpu_2_utilization",
    "cpu_0_utilization",
    "cpu_1_utilization",
  ]);
  assert.deepEqual(coreColumns(names), [
    "cpu_0_utilization",
    "cpu_1_utilization",
    "cpu_2_utilization",
    "cpu_10_utilization",
  ]);
});

// ---- pages

Deno.test("GET / renders the Overview with cards, sparklines and chart data", async () => {
  const file = await trace();
  const a = app(file);
  const { res, text } = await get(a, "/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/html/);
  assert.match(res.headers.get("content-security-policy")!, /script-src 'self'/);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.ok(text.startsWith("<!DOCTYPE html>"));
  assert.match(text, /<title>System Resource Monitor<\/title>/);
  for (const t of TABS) assert.ok(text.includes(`>${t.label.replace("&", "&amp;")}</a>`), t.label);
  for (const card of ["Samples", "CPU", "Memory", "Processes", "Threads", "Events"]) {
    assert.ok(text.includes(`<div class="card-label">${card}`), card);
  }
  assert.match(text, /Network \(recv \+ sent\)/);
  assert.match(text, /MiB\/s/);
  // no inline script other than JSON data
  for (const m of text.matchAll(/<script([^>]*)>/g)) {
    assert.ok(
      /src="\/(static|vendor)\//.test(m[1]!) || /type="application\/json"/.test(m[1]!),
      m[0],
    );
  }
  const data = tabData(text);
  const configs = chartConfigs(text);
  assert.ok(configs.some((c) => c.id === "overview-cpu-mem"));
  assert.ok(configs.filter((c) => c.kind === "spark").length >= 5);
  const block = data.blocks[0]!;
  assert.ok(block.dt.length >= 5, "several x positions");
  for (const c of configs) {
    for (const s of c.series) {
      const v = block.s[s.i]!;
      assert.equal(v.length, block.dt.length + 1, `${c.id}/${s.label} aligned with x`);
      assert.ok(v.some((x) => x !== null), `${c.id}/${s.label} has values`);
    }
  }
  await a.close();
});

Deno.test("GET /tab/:name returns each tab as a fragment whose page URL comes back in HX-Push-Url", async () => {
  const file = await trace();
  const a = app(file);
  const base = file.slice(file.lastIndexOf("/") + 1);
  const expect: Record<string, RegExp[]> = {
    overview: [/data-chart="overview-cpu-mem"/],
    cpu: [
      /data-chart="cpu-busy"/,
      /data-chart="cpu-split"/,
      /data-chart="cpu-cores-heatmap"/,
      /data-chart="mem-pct"/,
      /data-chart="open-files"/,
      /data-chart="fd"/,
      /data-chart="processes"/,
      /data-chart="threads"/,
      /data-chart="load"/,
      /data-chart="psi"/,
      /data-chart="swap"/,
      /Processes at the cursor/,
    ],
    io: [
      /data-chart="net"/,
      /data-chart="disk"/,
      /Network \(MiB\/s\)/,
      /Disk throughput \(MiB\/s\)/,
    ],
    gpu: [/No GPU columns \(gpu_&lt;i&gt;_\*\) in this trace/],
    containers: [/No container columns/],
    processes: [/data-chart="proc-cpu"/, /data-chart="proc-memory"/, /Processes seen/],
    proctree: [/Find PID by name or command line/, /Total Processes: <strong>/, /class="pt-text"/],
  };
  for (const t of TABS) {
    const { res, text } = await get(a, `/tab/${t.name}?file=${base}`, { "HX-Request": "true" });
    assert.equal(res.status, 200, t.name);
    assert.ok(!text.includes("<html"), "a fragment, not a page");
    assert.match(text, /^<div id="view" hx-target="this" hx-swap="outerHTML"/);
    assert.equal(
      res.headers.get("HX-Push-Url"),
      t.name === "overview" ? `/?file=${base}` : `/?file=${base}&tab=${t.name}`,
    );
    for (const re of expect[t.name]!) assert.match(text, re, `${t.name}: ${re}`);
    assert.match(
      text,
      new RegExp(`aria-selected="true"[^>]*>${t.label.replace("&", "&amp;")}<`),
      "the selected tab",
    );
  }
  assert.equal((await get(a, "/tab/nope")).res.status, 404);
  await a.close();
});

Deno.test("the view keeps its state in its URLs: range, zoom, zones, smoothing, pause", async () => {
  const file = await trace();
  const a = app(file);
  const meta = await (await openTrace(file)).meta();
  const mid = Math.round((meta.first! + meta.last!) / 2);
  const zoom = `${meta.first! + 200}-${mid}`;
  const url = `/tab/cpu?range=1h&zoom=${zoom}&tz=UTC&src=UTC&smooth=5&pause=1`;
  const { res, text } = await get(a, url, { "HX-Request": "true" });
  const push = new URL(res.headers.get("HX-Push-Url")!, "http://x");
  assert.equal(push.pathname, "/");
  assert.deepEqual(Object.fromEntries(push.searchParams), {
    file: file.slice(file.lastIndexOf("/") + 1),
    tab: "cpu",
    range: "1h",
    zoom,
    tz: "UTC",
    src: "UTC",
    smooth: "5",
    pause: "1",
  });
  assert.match(text, /data-tz="UTC"/);
  assert.match(text, /data-smooth="5"/);
  assert.match(text, new RegExp(`data-zoom="${zoom}"`));
  assert.match(text, /Reset zoom/);
  assert.match(text, new RegExp(`data-start="${meta.first! + 200}" data-end="${mid}"`));
  // paused: the panel does not poll
  const panel = /<section id="panel"[^>]*>/.exec(text)![0];
  assert.ok(!panel.includes("hx-trigger"), panel);
  // every range link drops the zoom and keeps the rest
  assert.match(
    text,
    /href="\/\?file=[^"]*&amp;tab=cpu&amp;range=10m&amp;tz=UTC&amp;src=UTC&amp;smooth=5&amp;pause=1"/,
  );
  // the data block covers only the zoomed window
  const block = tabData(text).blocks[0]!;
  const last = block.t0 + block.dt.reduce((s, d) => s + d, 0);
  assert.ok(block.t0 >= meta.first! + 200 && last <= mid, `${block.t0}..${last}`);
  // the CSV link carries the window
  assert.match(text, new RegExp(`/api/export.csv\\?start=${meta.first! + 200}&amp;end=${mid}`));
  await a.close();
});

Deno.test("an unknown time zone is rejected with a message and the page shows local time", async () => {
  const a = app(await trace());
  const { res, text } = await get(a, "/tab/overview?tz=Mars%2FOlympus", { "HX-Request": "true" });
  assert.equal(res.status, 200);
  assert.match(text, /&#39;Mars\/Olympus&#39; is not a time zone/);
  assert.match(text, /aria-invalid="true"/);
  assert.match(text, /data-tz="local"/);
  await a.close();
});

Deno.test("auto-refresh gets 204 while the file is unchanged, and the new panel after it changes", async () => {
  const dir = tempDir();
  const file = `${dir}/live.parquet`;
  Deno.copyFileSync(await trace(), file);
  const a = app(file);
  const { text } = await get(a, "/tab/overview");
  const poll = /hx-get="(\/tab\/overview\/panel[^"]*)" hx-trigger="every 10s"/.exec(text);
  assert.ok(poll, "the panel polls itself");
  const url = poll[1]!.replaceAll("&amp;", "&");
  assert.equal((await get(a, url)).res.status, 204);
  await writeTrace(file, {}, 30);
  const after = await get(a, url);
  assert.equal(after.res.status, 200);
  assert.match(after.text, /^<section id="panel"/);
  assert.match(after.text, /30 samples/);
  await a.close();
});

Deno.test("hostile column and container names are escaped everywhere", async () => {
  const file = `${tempDir()}/hostile.parquet`;
  const extra: Record<string, number> = {};
  for (const h of HOSTILE) {
    extra[`docker_${h}_cpu_percent`] = 10;
    extra[`docker_${h}_mem_percent`] = 20;
  }
  extra["<b>not_a_metric</b>"] = 1;
  await writeTrace(file, extra);
  const a = app(file);
  for (
    const url of ["/?tab=containers", "/?tab=containers&c=" + encodeURIComponent(HOSTILE[0]!), "/"]
  ) {
    const { res, text } = await get(a, url);
    assert.equal(res.status, 200, url);
    for (const bad of ["<img", "<svg", "</script><script>", "<b>not_a_metric"]) {
      assert.ok(!text.includes(bad), `${url}: '${bad}' reached the page unescaped`);
    }
    if (url === "/?tab=containers") {
      assert.ok(text.includes("&lt;img src=x onerror=alert(1)&gt;"), "shown as text in the picker");
      assert.ok(
        text.includes("\\u003cimg src=x onerror=alert(1)\\u003e"),
        "kept in the chart JSON",
      );
      // the JSON still parses back to the exact names
      const labels = chartConfigs(text).flatMap((c) => c.series.map((s) => s.label));
      for (const h of HOSTILE) assert.ok(labels.includes(h), `label ${h}`);
    }
  }
  await a.close();
});

/** A trace with only the original tool's columns and `cores` CPUs (sysmon's writer, 60 rows). */
function writeOriginalShape(path: string, cores: number) {
  const t = new ParquetTrace({ path, utc: true });
  const names = [
    "sys_total",
    "sys_used",
    "sys_free",
    "total_open_files",
    "max_files_count",
    "fd_usage_percent",
    "system_process_count",
    "system_thread_count",
    "net_bytes_recv_per_sec",
    "net_bytes_sent_per_sec",
    "disk_read_bytes_per_sec",
    "disk_write_bytes_per_sec",
  ];
  const rows: Row[] = [];
  for (let i = 0; i < 60; i++) {
    const row: Row = { timestamp: (Date.UTC(2024, 0, 1) + i * 1000) * 1000 };
    for (const n of names) row[n] = n === "sys_total" ? 1000 : n === "sys_used" ? 250 : i;
    for (let c = 0; c < cores; c++) row[`cpu_${c}_utilization`] = (c % 10) * 10;
    rows.push(row);
  }
  t.add(rows, (n) => columnDef(n)!);
  t.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: newTraceId() }, t.columns));
}

Deno.test("a trace with only the original columns hides sysmon's own charts with a note", async () => {
  const file = `${tempDir()}/original.parquet`;
  writeOriginalShape(file, 128);
  const a = app(file);
  const { text } = await get(a, "/?tab=cpu");
  assert.match(
    text,
    /Pressure stall \(PSI avg10\)<\/span><\/figcaption><p class="note">Not in this trace: needs psi_cpu_some_avg10_percent/,
  );
  assert.match(text, /Load average<\/span><\/figcaption><p class="note">Not in this trace/);
  const configs = chartConfigs(text);
  const data = tabData(text);
  // CPU busy: the mean of the cores (0, 10, …, 90 % over 128 cores: 44.375 %)
  const busy = configs.find((c) => c.id === "cpu-busy")!;
  assert.equal(data.blocks[0]!.s[busy.series[0]!.i]![0], 44.38);
  // 128 cores: a heatmap in natural order, no per-core lines
  const heat = configs.find((c) => c.id === "cpu-cores-heatmap")!;
  assert.equal(heat.series.length, 128);
  assert.deepEqual(heat.series.slice(0, 3).map((s) => s.label), ["cpu_0", "cpu_1", "cpu_2"]);
  assert.equal(heat.series[10]!.label, "cpu_10");
  assert.ok(!configs.some((c) => c.id === "cpu-cores"));
  const { text: overview } = await get(a, "/");
  assert.match(overview, /<div class="card-label">Memory<\/div><div class="card-value">25 %/);
  await a.close();
});

Deno.test("a missing file shows a page that waits for it and polls, then the trace", async () => {
  const dir = tempDir();
  const file = `${dir}/later.parquet`;
  const a = app(file);
  const { res, text } = await get(a, "/");
  assert.equal(res.status, 200);
  assert.match(text, /Waiting for the trace/);
  assert.match(text, /later\.parquet does not exist yet/);
  const poll = /hx-get="(\/tab\/overview[^"]*v=missing)" hx-trigger="every 2s" hx-target="#view"/
    .exec(text);
  assert.ok(poll, "the waiting panel polls the view");
  const url = poll[1]!.replaceAll("&amp;", "&");
  assert.equal((await get(a, url)).res.status, 204, "nothing new yet");
  Deno.copyFileSync(await trace(), file);
  const after = await get(a, url, { "HX-Request": "true" });
  assert.equal(after.res.status, 200);
  assert.match(after.text, /data-chart="overview-cpu-mem"/);
  await a.close();
});

Deno.test("bad files show the data layer's message and the server keeps serving", async () => {
  const dir = tempDir();
  const good = await trace();
  const bytes = Deno.readFileSync(good);
  const cases: Record<string, Uint8Array | string> = {
    "empty.parquet": new Uint8Array(0),
    "truncated.parquet": bytes.slice(0, Math.floor(bytes.length / 2)),
    "notes.parquet": "this is not a trace\n",
    "no_timestamp.csv": "time,cpu\n1,2\n",
    "bad_type.csv":
      "timestamp,cpu_busy_percent\n2024-05-01T00:00:00Z,busy\n2024-05-01T00:00:01Z,idle\n",
  };
  for (const [name, content] of Object.entries(cases)) {
    const file = `${dir}/${name}`;
    if (typeof content === "string") Deno.writeTextFileSync(file, content);
    else Deno.writeFileSync(file, content);
    const expected = await openTrace(file).then(async (s) => {
      try {
        await s.meta();
        await s.series({ columns: ["cpu_busy_percent"], points: 10 });
        return null;
      } catch (err) {
        return (err as Error).message;
      } finally {
        await s.close();
      }
    }, (err) => (err as Error).message);
    const a = app(file);
    const { res, text } = await get(a, "/");
    assert.equal(res.status, 200, name);
    if (expected === null) {
      // the data layer reads it (e.g. a column it turns to null): the page must still render
      assert.match(text, /id="panel"/, name);
      continue;
    }
    assert.match(text, /This trace cannot be shown/, name);
    const escaped = expected.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(
      ">",
      "&gt;",
    )
      .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
    assert.ok(text.includes(escaped), `${name}: page shows '${expected}'`);
    assert.match(text, /hx-trigger="every 5s" hx-target="#view"/, `${name}: it checks again`);
    // the server still serves its assets and API
    assert.equal((await get(a, "/static/js/main.js")).res.status, 200);
    await a.close();
  }
});

Deno.test("a file replaced while the page is open shows the new content or its message", async () => {
  const dir = tempDir();
  const file = `${dir}/swap.parquet`;
  Deno.copyFileSync(await trace(), file);
  const a = app(file);
  assert.match((await get(a, "/")).text, /data-chart="overview-cpu-mem"/);
  Deno.writeTextFileSync(`${file}.tmp`, "garbage, not Parquet");
  Deno.renameSync(`${file}.tmp`, file);
  const broken = await get(a, "/tab/overview/panel");
  assert.equal(broken.res.status, 200);
  assert.match(broken.text, /class="problem error"/);
  await writeTrace(`${file}.tmp`, {}, 12);
  Deno.renameSync(`${file}.tmp`, file);
  const back = await get(a, "/tab/overview/panel");
  assert.match(back.text, /12 samples/);
  await a.close();
});

Deno.test("the process list answers for a time and keeps it in the URL", async () => {
  const file = await trace();
  const a = app(file);
  const meta = await (await openTrace(file)).meta();
  const { res, text } = await get(a, `/tab/cpu/processes?at=${meta.last}`, {
    "HX-Request": "true",
  });
  assert.equal(res.status, 200);
  assert.match(text, /^<div id="procs"/);
  assert.match(res.headers.get("HX-Replace-Url")!, new RegExp(`tab=cpu.*at=${meta.last}`));
  assert.match(text, /<table>|no per-process records/);
  await a.close();
});

Deno.test("assets: libraries from their npm packages, our code, caching and no traversal", async () => {
  const a = app(await trace());
  for (
    const [url, type] of [
      ["/vendor/uplot.js", "javascript"],
      ["/vendor/uplot.css", "css"],
      ["/vendor/htmx.js", "javascript"],
      ["/static/js/main.js", "javascript"],
      ["/static/app.css", "css"],
      ["/static/theme.js", "javascript"],
    ]
  ) {
    const { res, text } = await get(a, url!);
    assert.equal(res.status, 200, url);
    assert.match(res.headers.get("content-type")!, new RegExp(type!));
    assert.ok(text.length > 100, url);
    const etag = res.headers.get("etag")!;
    assert.ok(etag, url);
    assert.equal((await a.request(url!, { headers: { "If-None-Match": etag } })).status, 304);
  }
  assert.match((await get(a, "/vendor/uplot.js")).res.headers.get("cache-control")!, /max-age/);
  assert.equal((await get(a, "/static/js/main.js")).res.headers.get("cache-control"), "no-cache");
  for (
    const url of [
      "/static/..%2Fdeno.json",
      "/static/../deno.json",
      "/vendor/x.js",
      "/static/nope.js",
    ]
  ) {
    assert.equal((await get(a, url)).res.status, 404, url);
  }
  await a.close();
});

Deno.test("the data API is mounted and the CSV link downloads the range", async () => {
  const file = await trace();
  const a = app(file);
  const meta = await (await a.request("/api/meta")).json();
  assert.ok(meta.rows >= 10);
  const { text } = await get(a, "/");
  const link = /href="(\/api\/export\.csv\?[^"]*)"/.exec(text)![1]!.replaceAll("&amp;", "&");
  const csv = await a.request(link);
  assert.equal(csv.status, 200);
  const body = await csv.text();
  assert.match(body.split("\n")[0]!, /timestamp/);
  assert.ok(body.trim().split("\n").length >= 10);
  await a.close();
});

async function serveAndStop(v8Flags?: string) {
  const file = await trace();
  const child = spawnSysmon(["serve", file, "--port", "0"], {
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    v8Flags,
  });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000); // a hang fails, not waits
  while (!/http:\/\/127\.0\.0\.1:\d+\/[^]*data file: .*\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  clearTimeout(deadline);
  const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
  assert.match(out, new RegExp(`data file: ${file}`));
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /System Resource Monitor/);
  const server = childCmdlines(child.pid);
  child.kill("SIGTERM");
  const status = await child.status;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  assert.match(out, /stopped/);
  return server;
}

/** Command lines of a process's children. */
function childCmdlines(pid: number): string[][] {
  const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
  return kids === ""
    ? []
    : kids.split(" ").map((k) => Deno.readTextFileSync(`/proc/${k}/cmdline`).split("\0"));
}

Deno.test("sysmon serve prints its URL, serves the page and stops on SIGTERM", async () => {
  assert.deepEqual(await serveAndStop(), []); // serves in the process itself
});

Deno.test("serve started with other V8 flags serves in its own process: it never starts itself again", async () => {
  assert.deepEqual(await serveAndStop(TRACER_V8_FLAGS), []); // no child process at all
});

Deno.test("serve without WebAssembly (--jitless) refuses with exit code 2 and says why", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--port", "0"],
    env: { DENO_V8_FLAGS: "--jitless" }, // no WebAssembly, here and in any child
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /runs without WebAssembly \(--jitless or --lite-mode\)/,
  );
});

Deno.test("sysmon serve refuses a bad port with exit code 2", async () => {
  const r = await sysmon(["serve", "x.parquet", "--port", "70000"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--port must be at most 65535/);
});
