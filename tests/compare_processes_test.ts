// Several traces compared, their processes: `sysmon serve A B` draws and lists the processes
// of every trace shown on the Processes tab (a line per process and trace, `name (pid) ·
// host`; one list with a trace column whose links carry `trace=`), lists each trace's
// processes at a time on the CPU & Memory tab, draws one per-core heatmap per trace, and says
// that the Process Tree shows this machine.
import assert from "node:assert/strict";
import type { ProcessRecord } from "../src/schema/columns.ts";
import { createApp } from "../src/server/app.ts";
import { Comparison } from "../src/server/comparison.ts";
import { get, noStackTrace, startServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";
import { proc } from "./process_trace.ts";

const T0 = Date.UTC(2026, 4, 12, 9, 0, 0);
const MiB = 2 ** 20;
const HOSTILE = "<script>alert(1)</script>";

interface Config {
  id: string;
  title: string;
  kind: string;
  block: number;
  series: { label: string; i: number; trace?: number; href?: string; hx?: string }[];
}

function chartConfigs(html: string): Map<string, Config> {
  const out = new Map<string, Config>();
  for (
    const m of html.matchAll(
      /<script type="application\/json"\s+class="chart-config">(.*?)<\/script>/g,
    )
  ) {
    const cfg = JSON.parse(m[1]!) as Config;
    out.set(cfg.id, cfg);
  }
  return out;
}

function tabData(html: string): { blocks: { t0: number; dt: number[]; s: unknown[][] }[] } {
  const m = /<script type="application\/json"\s+class="tab-data">(.*?)<\/script>/.exec(html);
  assert.ok(m, "no tab data");
  return JSON.parse(m[1]!);
}

const labels = (c: Config | undefined) => (c?.series ?? []).map((x) => [x.label, x.trace]);

/** Run 1 (hostA): postgres at 20 %, nginx, a hostile name; run 2 (hostB): postgres at 60 %, redis. */
function writeBoth(dir: string, t0B = T0 + 300) {
  const a = `${dir}/a.parquet`, b = `${dir}/b.parquet`;
  writeTrace(a, "hostA", T0, {
    cores: 4,
    processes: (i): ProcessRecord[] => [
      proc(100, "postgres", 20 + (i % 3), 400 * MiB),
      proc(101, "nginx", 5, 50 * MiB, 1e6),
      proc(666, HOSTILE, 3, 10 * MiB),
    ],
  });
  writeTrace(b, "hostB", t0B, {
    cores: 2,
    cpu: 60,
    processes: (i): ProcessRecord[] => [
      proc(100, "postgres", 60 + (i % 3), 800 * MiB),
      proc(200, "redis", 40, 300 * MiB, 2e6),
    ],
  });
  return { a, b };
}

/** The `hx-get` of the list's link to a process's history (the row naming `name`). */
function historyLink(html: string, name: string): string {
  const m = new RegExp(`hx-get="([^"]*proc=[^"]*)"[^>]*>${name}</a>`).exec(html);
  assert.ok(m, `no link to ${name}'s history`);
  return m[1]!.replaceAll("&amp;", "&");
}

Deno.test("sysmon serve A B: the Processes and CPU tabs show the processes of both traces", async () => {
  const dir = tempDir();
  const { a, b } = writeBoth(dir);
  const s = await startServe([a, b, "--port", "0"]);
  try {
    const res = await get(`${s.url}tab/processes?range=all`);
    assert.equal(res.status, 200);
    const html = res.text;
    noStackTrace(html);
    assert.doesNotMatch(html, /first trace only/);
    const cfg = chartConfigs(html);
    // A line per process and trace, in the trace's slot.
    assert.deepEqual(labels(cfg.get("proc-cpu")).sort(), [
      ["<script>alert(1)</script> (666) · hostA", 0],
      ["nginx (101) · hostA", 0],
      ["postgres (100) · hostA", 0],
      ["postgres (100) · hostB", 1],
      ["redis (200) · hostB", 1],
    ]);
    assert.deepEqual(labels(cfg.get("proc-memory")).filter(([l]) => l === "redis (200) · hostB"), [
      ["redis (200) · hostB", 1],
    ]);
    const io = labels(cfg.get("proc-io")).map(([l]) => l).sort();
    assert.deepEqual(io, ["nginx (101) · hostA", "redis (200) · hostB"]);
    // Each line carries its values (not a copy of the first trace's).
    const { blocks } = tabData(html);
    const valuesOf = (label: string) => {
      const x = cfg.get("proc-cpu")!.series.find((y) => y.label === label)!;
      return (blocks[cfg.get("proc-cpu")!.block]!.s[x.i] as (number | null)[]).filter((v) =>
        v !== null
      );
    };
    assert.ok(valuesOf("postgres (100) · hostB").every((v) => v >= 60));
    assert.ok(valuesOf("postgres (100) · hostA").every((v) => v < 30));
    // One list naming each process's trace; the links carry it.
    assert.match(html, /<th>Trace<\/th>/);
    const rows = [...html.matchAll(/<tr[^>]*data-trace="(\d)"[^>]*>([\s\S]*?)<\/tr>/g)];
    const seen = rows.map((r) => [r[1], /proc-link[^>]*>([^<]*)</.exec(r[2]!)?.[1]]);
    assert.deepEqual(seen.filter(([, n]) => n === "postgres").map(([t]) => t).sort(), ["0", "1"]);
    assert.ok(seen.some(([t, n]) => t === "1" && n === "redis"), JSON.stringify(seen));
    // A hostile name is text: escaped in the list and in the charts' JSON.
    assert.ok(!html.includes(HOSTILE), "a process name written as markup");
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /\\u003cscript\\u003ealert\(1\)\\u003c\/script\\u003e \(666\) · hostA/);
    // A click on redis (hostB's) shows its history within hostB.
    const link = historyLink(html, "redis");
    assert.match(link, /[?&]trace=1(&|$)/);
    const one = await get(`${s.url}${link.slice(1)}`);
    assert.equal(one.status, 200);
    assert.match(one.text, /History of <span class="proc-name">redis \(200\)<\/span>/);
    assert.match(
      one.text,
      /class="proc-trace"> in <i class="trace-swatch" data-trace="1"><\/i> hostB/,
    );
    const own = chartConfigs(one.text);
    assert.deepEqual(labels(own.get("proc-one-cpu")), [["redis (200) · hostB", 1]]);
    // The chart legends' links carry the trace too.
    const legend = cfg.get("proc-cpu")!.series.find((x) => x.label === "postgres (100) · hostB")!;
    assert.match(legend.hx!, /proc=100%3Apostgres.*trace=1|trace=1.*proc=100%3Apostgres/);
    // postgres of hostA is another process than hostB's: its own history, in hostA.
    const pgA = await get(`${s.url}tab/processes?range=all&proc=100:postgres&trace=0`);
    const pgCfg = chartConfigs(pgA.text);
    assert.deepEqual(labels(pgCfg.get("proc-one-cpu")), [["postgres (100) · hostA", 0]]);
    // redis asked for in hostA: not there (said), not hostB's.
    const wrong = await get(`${s.url}tab/processes?range=all&proc=200:redis&trace=0`);
    assert.match(wrong.text, /redis \(200\) is not listed in this range\s*of its trace/);
    assert.equal(chartConfigs(wrong.text).get("proc-one-cpu"), undefined);

    // CPU & Memory: each trace's processes at the time, headed by its name and colour.
    const cpu = (await get(`${s.url}tab/cpu?range=all`)).text;
    noStackTrace(cpu);
    const sections = [
      ...cpu.matchAll(/<section class="procs-trace" data-trace="(\d)"[^>]*>([\s\S]*?)<\/section>/g),
    ];
    assert.deepEqual(sections.map((x) => x[1]), ["0", "1"]);
    assert.match(sections[0]![2]!, /hostA[\s\S]*postgres[\s\S]*nginx/);
    assert.match(sections[1]![2]!, /hostB[\s\S]*postgres[\s\S]*redis/);
    assert.doesNotMatch(sections[0]![2]!, /redis/);
    assert.ok(!cpu.includes(HOSTILE));
    // A time picked on a chart: both lists at that time (the fragment the page swaps in).
    const at = await get(`${s.url}tab/cpu/processes?range=all&at=${T0 + 30_000}`);
    assert.equal(at.status, 200);
    assert.match(at.text, /^<div id="procs" class="procs procs-traces">/);
    assert.equal([...at.text.matchAll(/class="procs-trace"/g)].length, 2);
    assert.match(at.text, /2026-05-12 09:00:30 UTC/);
    // One per-core heatmap per trace, each over its own cores.
    const heat = [...chartConfigs(cpu).values()].filter((c) => c.kind === "heatmap");
    assert.deepEqual(heat.map((c) => [c.id, c.title]), [
      ["cpu-cores-heatmap-t0", "Per-core CPU (4 cores) · hostA"],
      ["cpu-cores-heatmap-t1", "Per-core CPU (2 cores) · hostB"],
    ]);
    const cpuBlocks = tabData(cpu).blocks;
    assert.equal(cpuBlocks[heat[0]!.block]!.s.filter((v) => v.some((x) => x !== null)).length, 4);
    assert.equal(cpuBlocks[heat[1]!.block]!.s.filter((v) => v.some((x) => x !== null)).length, 2);
    assert.notEqual(heat[0]!.block, heat[1]!.block);
    // The Process Tree says it shows this machine, not a trace.
    const tree = (await get(`${s.url}tab/proctree`)).text;
    assert.match(tree, /This tab shows this machine&#39;s processes now, not a trace&#39;s/);
    assert.doesNotMatch(tree, /first trace/);
    // The API answers each trace's processes.
    const list = JSON.parse((await get(`${s.url}api/processes/list?trace=1`)).text);
    assert.deepEqual(list.processes.map((p: { name: string }) => p.name).sort(), [
      "postgres",
      "redis",
    ]);
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, r.stderr);
  }
});

Deno.test("two runs a day apart: the processes are aligned from each start", async () => {
  const dir = tempDir();
  const { a, b } = writeBoth(dir, T0 + 86_400_000 + 5_000);
  const compare = new Comparison([a, b]);
  const app = createApp({ file: a, compare, eager: false });
  try {
    const html = await (await app.request("/tab/processes?range=all")).text();
    assert.match(html, /data-align="start"/);
    const { blocks } = tabData(html);
    assert.equal(blocks[0]!.t0, 0);
    const cfg = chartConfigs(html);
    const redis = cfg.get("proc-cpu")!.series.find((x) => x.label === "redis (200) · hostB")!;
    // hostB's samples at elapsed times, not a day later.
    const t = [0];
    for (const d of blocks[0]!.dt) t.push(t.at(-1)! + d);
    const xs = t.filter((_, k) => (blocks[0]!.s[redis.i] as (number | null)[])[k] !== null);
    assert.ok(xs.length > 30 && xs.at(-1)! <= 60_000, JSON.stringify(xs.slice(-3)));
    // The list's times are elapsed too.
    const list = html.slice(html.indexOf('id="proc-list"'));
    assert.match(list, /<td><span class="elapsed">\+0:00:00<\/span><\/td>/);
    assert.doesNotMatch(list, /<time /);
    // The CPU tab's lists at +0:00:30: each trace's sample 30 s after its start.
    const at = await (await app.request("/tab/cpu/processes?range=all&at=30000")).text();
    assert.equal([...at.matchAll(/Sample at <span class="elapsed">\+0:00:30<\/span>/g)].length, 2);
    assert.doesNotMatch(at, /no sample near/);
  } finally {
    await app.close();
  }
});

Deno.test("each trace reads at most MAX_PROCESS_SAMPLES samples of its own", async () => {
  const dir = tempDir();
  const a = `${dir}/a.parquet`, b = `${dir}/b.parquet`;
  // hostA: recorded at 1 s, a sample left an hour for 8 hours (the machine slept: longer than
  // 6 h of 1 s samples); hostB: 60 s at its end.
  writeTrace(a, "hostA", T0, {
    n: 9,
    step: 3_600_000,
    interval: 1,
    processes: (i) => [proc(10, i === 0 ? "early-a" : "late-a", 5, MiB)],
  });
  writeTrace(b, "hostB", T0 + 8 * 3_600_000 - 60_000, {
    n: 60,
    processes: (i) => [proc(20, i === 0 ? "early-b" : "late-b", 5, MiB)],
  });
  const compare = new Comparison([a, b]);
  const app = createApp({ file: a, compare, eager: false });
  try {
    const html = await (await app.request("/tab/processes?range=all&align=wall")).text();
    assert.match(html, /class="note proc-clipped"/);
    assert.doesNotMatch(html, /early-a/); // hostA's first hours: past what it reads
    assert.match(html, /late-a/);
    assert.match(html, /early-b/); // hostB's samples all lie in its newest 6 hours
    assert.match(html, /late-b/);
  } finally {
    await app.close();
  }
});
