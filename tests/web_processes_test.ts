// The Processes tab and /api/processes/{list,top,history} through the real `sysmon serve`:
// the top processes of each metric with series whose legends name them, a process of 10
// samples in 3,000 found by its name and drawn, its own history, hostile names escaped, and
// the original tool's files (no per-process records: said, no empty charts).
import assert from "node:assert/strict";
import { startLiveServe, startServe } from "./fault_kit.ts";
import { tempDir } from "./helpers.ts";
import { writeTrace } from "./compare_kit.ts";
import { createApp } from "../src/server/app.ts";
import { BURST, proc, processRow, T0, writeProcessTrace } from "./process_trace.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { columnDef, type Row } from "../src/schema/columns.ts";
import type { ProcessRecord } from "../src/schema/column_types.ts";
import { traceMetadata } from "../src/store/metadata.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";

const ROWS = 8000;
const EVIL = `<img src=x onerror=alert(1)>"'\u202e`;

/** The trace: the steady processes, the burst, and a process with a hostile name. */
function trace(): string {
  const path = `${tempDir()}/procs.parquet`;
  writeProcessTrace(path, 0, ROWS, {
    rows: ROWS,
    extra: (i) => (i % 2 ? [proc(666, EVIL, 60, 2 ** 20)] : []),
  });
  return path;
}

async function getJson(url: string) {
  const res = await fetch(url);
  const body = await res.json();
  return { status: res.status, body };
}

async function getText(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

/** The JSON of every `<script type="application/json">` of a fragment with `cls`. */
function scripts(html: string, cls: string): unknown[] {
  const re = new RegExp(
    `<script type="application/json"[^>]*class="${cls}"[^>]*>(.*?)</script>`,
    "gs",
  );
  return [...html.matchAll(re)].map((m) => JSON.parse(m[1]!));
}

interface Config {
  id: string;
  kind: string;
  series: { label: string; i: number; href?: string; hx?: string }[];
}

Deno.test("sysmon serve: /api/processes/top, list and history find a process of 10 samples in 8,000", async () => {
  const file = trace();
  const serve = await startServe([file, "--port", "0"]);
  try {
    const top = await getJson(`${serve.url}api/processes/top?top=5&points=400`);
    assert.equal(top.status, 200);
    assert.equal(top.body.recorded, true);
    assert.equal(top.body.rows, ROWS);
    assert.ok(top.body.t.length <= 400);
    const cpu = top.body.top.cpu as { pid: number; name: string; values: (number | null)[] }[];
    assert.deepEqual([cpu[0]!.pid, cpu[0]!.name], [BURST.pid, BURST.name]);
    assert.equal(cpu[0]!.values.length, top.body.t.length);
    assert.ok(cpu[0]!.values.some((v) => v === 180));
    assert.ok(cpu.some((p) => p.name === EVIL), "names come back as they are (JSON)");
    assert.deepEqual(top.body.top.gpu, []);

    const found = await getJson(`${serve.url}api/processes/list?search=XQ7`);
    assert.equal(found.status, 200);
    assert.equal(found.body.total, 1);
    const b = found.body.processes[0];
    assert.deepEqual([b.pid, b.name, b.samples, b.peak.cpu], [BURST.pid, BURST.name, 10, 180]);
    assert.equal(b.first, T0 + BURST.from * 1000);
    const byMemory = await getJson(`${serve.url}api/processes/list?order=memory_peak&limit=2`);
    assert.deepEqual(byMemory.body.processes.map((p: { name: string }) => p.name), [
      "python3",
      "postgres",
    ]);

    const h = await getJson(
      `${serve.url}api/processes/history?pid=${BURST.pid}&name=${BURST.name}`,
    );
    assert.equal(h.status, 200);
    assert.equal(h.body.process.samples, 10);
    assert.ok(h.body.start < b.first && h.body.end > b.last, "its lifetime and a margin");
    assert.deepEqual(
      h.body.values.cpu.filter((v: number | null) => v !== null),
      Array(10).fill(180),
    );

    const missing = await getJson(`${serve.url}api/processes/history?pid=1&name=nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /No process 'nope' with PID 1/);
    for (
      const [url, re] of [
        ["api/processes/list?order=bogus", /order: 'bogus' is not one of cpu_peak/],
        ["api/processes/top?top=0", /top: '0' is not a whole number from 1 to 50/],
        ["api/processes/history?name=x", /pid: give the process's PID/],
        [`api/processes/list?start=${T0 + 5000}&end=${T0}`, /start: .* is after end/],
      ] as const
    ) {
      const r = await getJson(`${serve.url}${url}`);
      assert.equal(r.status, 400, url);
      assert.match(r.body.error, re);
    }
  } finally {
    await serve.stop();
  }
});

Deno.test("sysmon serve: the Processes tab names the top processes in its chart legends, lists them, and shows one's history", async () => {
  const file = trace();
  const serve = await startServe([file, "--port", "0"]);
  try {
    const tab = await getText(`${serve.url}tab/processes?range=all`, { "HX-Request": "true" });
    assert.equal(tab.status, 200);
    const configs = scripts(tab.text, "chart-config") as Config[];
    const cpu = configs.find((c) => c.id === "proc-cpu")!;
    assert.equal(cpu.kind, "proclines");
    const labels = cpu.series.map((s) => s.label);
    assert.equal(labels[0], "burst-xq7 (4242)", labels.join(", "));
    assert.ok(labels.includes("python3 (102)"));
    // A hostile name: its control characters as escapes in the label, escaped in the HTML.
    assert.ok(labels.includes(`<img src=x onerror=alert(1)>"'\\u202e (666)`), labels.join(", "));
    assert.ok(!tab.text.includes("<img src=x"), "no markup from a process name");
    assert.ok(!tab.text.includes("\u202e"), "no bidi override from a process name");
    const link = cpu.series[0]!;
    assert.equal(link.href, `/?file=procs.parquet&tab=processes&range=all&proc=4242%3Aburst-xq7`);
    assert.equal(link.hx, `/tab/processes?file=procs.parquet&range=all&proc=4242%3Aburst-xq7`);
    // The data block holds its values where it lived.
    const block = (scripts(tab.text, "tab-data")[0] as { blocks: { s: (number | null)[][] }[] })
      .blocks[0]!;
    assert.ok(block.s[link.i]!.includes(180));
    // The GPU chart says why it is not drawn; the list holds every process, linked.
    assert.match(tab.text, /No process held GPU memory in this range/);
    assert.match(tab.text, /9 processes/);
    assert.match(
      tab.text,
      /hx-get="\/tab\/processes\?file=procs.parquet&amp;range=all&amp;proc=4242%3Aburst-xq7"/,
    );

    const search = await getText(`${serve.url}tab/processes?range=all&find=burst`, {
      "HX-Request": "true",
    });
    assert.match(search.text, /1 process matching “burst”/);
    assert.equal((search.text.match(/class="proc-link"/g) ?? []).length, 1);

    const one = await getText(`${serve.url}tab/processes?range=all&proc=4242:burst-xq7`, {
      "HX-Request": "true",
    });
    assert.match(one.text, /History of <span class="proc-name">burst-xq7 \(4242\)<\/span>/);
    const own = scripts(one.text, "chart-config") as Config[];
    assert.deepEqual(
      own.filter((c) => c.id.startsWith("proc-one-")).map((c) => c.id),
      ["proc-one-cpu", "proc-one-memory", "proc-one-io", "proc-one-threads"], // no GPU memory
    );
    // The charts show its lifetime (and a margin), not the whole day.
    const start = Number(/data-start="(\d+)"/.exec(one.text)![1]);
    const end = Number(/data-end="(\d+)"/.exec(one.text)![1]);
    assert.ok(start >= T0 + (BURST.from - 10) * 1000 && start <= T0 + BURST.from * 1000);
    assert.ok(end >= T0 + (BURST.to - 1) * 1000 && end <= T0 + (BURST.to + 10) * 1000);
    assert.match(one.text, /Back to all processes/);

    const gone = await getText(`${serve.url}tab/processes?proc=4242:burst-xq7`, {
      "HX-Request": "true",
    });
    assert.match(gone.text, /burst-xq7 \(4242\) is not listed in this range/);
  } finally {
    await serve.stop();
  }
});

Deno.test("sysmon serve: a file of the original tool has no Processes charts, and says why", async () => {
  const path = `${tempDir()}/system_monitor.parquet`;
  Deno.writeFileSync(path, originalParquetBytes(originalRows({ start: T0, n: 50 }), { tz: "utc" }));
  const serve = await startServe([path, "--port", "0"]);
  try {
    const tab = await getText(`${serve.url}tab/processes?range=all`, { "HX-Request": "true" });
    assert.equal(tab.status, 200);
    assert.match(tab.text, /This trace has no per-process records/);
    assert.ok(!tab.text.includes("data-chart="), "no empty charts");
    const top = await getJson(`${serve.url}api/processes/top`);
    assert.deepEqual([top.status, top.body.recorded, top.body.t.length], [200, false, 0]);
  } finally {
    await serve.stop();
  }
});

Deno.test("sysmon serve tracing live: the Processes tab and API show the processes of the rows written so far, and the tab polls", async () => {
  const dir = tempDir();
  const serve = await startLiveServe(dir);
  try {
    // The tracer's rows reach the journal every second: its own process is soon listed.
    let list: { total: number; processes: { name: string; samples: number }[] } | null = null;
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const r = await getJson(`${serve.url}api/processes/list?order=last&limit=500`);
      if (r.status === 200 && r.body.total > 0) {
        list = r.body;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(list, "no process listed within 30 s");
    const tab = await getText(`${serve.url}tab/processes`, { "HX-Request": "true" });
    assert.equal(tab.status, 200);
    assert.match(tab.text, /data-chart="proc-memory"/);
    assert.match(tab.text, /Processes seen/);
    const panel = /<section id="panel"[^>]*>/.exec(tab.text)![0];
    assert.match(panel, /data-live="0"/, "not appended to: polled");
    assert.match(panel, /hx-trigger="every \d+s"/);
  } finally {
    await serve.stop();
  }
});

Deno.test("sysmon serve: a range longer than the Processes tab reads is read from its end, and the tab says so", async () => {
  const path = `${tempDir()}/long.parquet`;
  // 100 samples 10 minutes apart (16.5 h): "early-xq" only in the first 5.
  const t = new ParquetTrace({ path, utc: true });
  const rows: Row[] = [];
  for (let i = 0; i < 100; i++) {
    const r = processRow(i);
    if (i < 5) (r.processes as ProcessRecord[]).push(proc(777, "early-xq", 50, 2 ** 20));
    rows.push({ ...r, timestamp: (T0 + i * 600_000) * 1000 });
  }
  t.add(rows, (n) => columnDef(n)!);
  t.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: "long" }, t.columns));
  const serve = await startServe([path, "--port", "0"]);
  try {
    const all = await getText(`${serve.url}tab/processes?range=all&find=early`, {
      "HX-Request": "true",
    });
    assert.equal(all.status, 200);
    assert.match(all.text, /class="note proc-clipped"/);
    assert.ok(!all.text.includes("early-xq"), "the newest 6 h hold no early-xq");
    // Zoomed into the first hours: read whole, and found.
    const zoom = `${T0}-${T0 + 3 * 3_600_000}`;
    const early = await getText(`${serve.url}tab/processes?range=all&zoom=${zoom}&find=early`, {
      "HX-Request": "true",
    });
    assert.ok(!early.text.includes("proc-clipped"));
    assert.match(early.text, /early-xq/);
  } finally {
    await serve.stop();
  }
});

Deno.test("the process API reads at most the newest 21,600 samples of a range, and says which part", async () => {
  const dir = tempDir();
  const file = `${dir}/slept.parquet`;
  // Recorded at 1 s, a sample left an hour for 8 hours (the machine slept): longer than 6 h
  // of 1 s samples, so a whole-range query reads its newest 6 hours only.
  writeTrace(file, "h", T0, {
    n: 9,
    step: 3_600_000,
    interval: 1,
    processes: (i) => [proc(10, i === 0 ? "early" : "late", 5, 2 ** 20)],
  });
  const app = createApp({ file, eager: false });
  try {
    const json = async (url: string) => {
      const r = await app.request(url);
      return { status: r.status, body: await r.json() };
    };
    const all = await json("/api/processes/list");
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.read, {
      start: T0 + 8 * 3_600_000 - 21_600_000,
      end: T0 + 8 * 3_600_000,
      clipped: true,
    });
    assert.deepEqual(all.body.processes.map((p: { name: string }) => p.name), ["late"]);
    const top = await json("/api/processes/top");
    assert.equal(top.body.read.clipped, true);
    const gone = await json("/api/processes/history?pid=10&name=early");
    assert.equal(gone.status, 404);
    assert.match(gone.body.error, /in the newest 21600 samples .*give start and end around it/);
    // Asked around it: read whole, found.
    const early = await json(`/api/processes/list?start=${T0}&end=${T0 + 3_600_000}`);
    assert.equal(early.body.read.clipped, false);
    assert.deepEqual(early.body.processes.map((p: { name: string }) => p.name), [
      "early",
      "late",
    ]);
    const found = await json(`/api/processes/history?pid=10&name=early&start=${T0}&end=${T0 + 1}`);
    assert.equal(found.status, 200);
  } finally {
    await app.close();
  }
});
