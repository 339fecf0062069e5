// The live side of the dashboard through app.request() (no socket, no browser): the sidebar's
// forms (/ui/*), live samples for the charts (/tab/:name/live), the Process Tree tab over a
// fixture /proc, the security of it all; and the real `sysmon serve` with and without a file.
import assert from "node:assert/strict";
import { byCommand, type TreeNode } from "../src/schema/proc_tree.ts";
import { layoutTree, nodeLabel } from "../src/views/tree_layout.ts";
import { createApp } from "../src/server/app.ts";
import { LiveSession } from "../src/live/session.ts";
import { feedMeta, type FeedRow, joinResults, LiveFeed, rowsResult } from "../src/live/feed.ts";
import { diffSnapshots, type TreeSnapshot } from "../src/live/proc_inspect.ts";
import { copySync } from "./copy.ts";
import { MAIN, readParquet, spawnSysmon, tempDir, waitFor } from "./helpers.ts";
import { startServe } from "./fault_kit.ts";

const FIXTURE_PROCS = new URL("./fixtures/procs", import.meta.url).pathname;
const OPTS = { sampleInterval: 0.2, writeInterval: 0.5, enableGpu: false, enableDocker: false };
const SAME_ORIGIN = { "Sec-Fetch-Site": "same-origin", Origin: "http://localhost" };

function fixtureRoots() {
  const root = tempDir();
  copySync(FIXTURE_PROCS, root);
  return { proc: `${root}/proc`, sys: `${root}/sys`, etc: `${root}/etc` };
}

function setup(opts: { file?: string } = {}) {
  const dir = tempDir();
  const session = new LiveSession({ file: opts.file ?? `${dir}/live.parquet`, defaults: OPTS });
  const app = createApp({ session, refreshMs: 60_000, procRoots: fixtureRoots() });
  const close = async () => {
    await app.close();
    await session.close();
  };
  return { dir, session, app, close };
}

type App = ReturnType<typeof createApp>;

async function get(app: App, url: string) {
  const res = await app.request(url, { headers: { "HX-Request": "true" } });
  return { res, text: await res.text() };
}

async function post(app: App, url: string, fields: Record<string, string> | FormData = {}) {
  const body = fields instanceof FormData ? fields : new URLSearchParams(fields);
  const res = await app.request(url, { method: "POST", body, headers: SAME_ORIGIN });
  return { res, text: await res.text() };
}

/** The panel's live attributes (data-*) in a page or fragment. */
function liveAttrs(html: string) {
  const panel = /<section id="panel"[^>]*>/.exec(html)![0];
  const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(panel)?.[1];
  return {
    live: attr("data-live"),
    url: attr("data-live-url")?.replaceAll("&amp;", "&"),
    since: attr("data-since"),
    epoch: attr("data-epoch"),
    sig: attr("data-sig"),
  };
}

function csvForm(text: string, zone = "UTC", name = "events.csv") {
  const f = new FormData();
  f.set("file", new File([text], name, { type: "text/csv" }));
  f.set("zone", zone);
  return f;
}

// ---- pure parts

Deno.test("rowsResult() and joinResults() keep every column aligned with the times", () => {
  const rows: FeedRow[] = [
    { t: 10, values: { a: 1, b: null } },
    { t: 20, values: { a: 2 } },
  ];
  const r = rowsResult(rows, ["a", "b", "c"]);
  assert.deepEqual(r.t, [10, 20]);
  assert.deepEqual(r.series, { a: [1, 2], b: [null, null], c: [null, null] });
  const file = {
    start: 0,
    end: 5,
    rows: 1,
    reduced: true,
    t: [5],
    series: { a: [7] },
    missing: [],
  };
  const j = joinResults(file, r);
  assert.deepEqual(j.t, [5, 10, 20]);
  assert.deepEqual(j.series, { a: [7, 1, 2], b: [null, null, null], c: [null, null, null] });
  assert.equal(j.rows, 3);
  assert.equal(j.reduced, true);
  assert.equal(feedMeta("/x/t.parquet", rows, ["a"]).last, 20);
});

Deno.test("LiveFeed keeps the newest rows, says what a page missed, and starts over with the session", () => {
  const dir = tempDir();
  const session = new LiveSession({ file: `${dir}/t.parquet` });
  const feed = new LiveFeed(session, { maxRows: 3 });
  // rows as a followed file gives them (instant already known)
  const push = (at: number) =>
    (session as unknown as { onRow(r: unknown): void }).onRow({
      at,
      row: { cpu_busy_percent: at },
    });
  for (const at of [1000, 2000, 2000, 3000, 4000]) push(at);
  assert.deepEqual(
    feed.rows().map((r) => r.t),
    [2000, 3000, 4000],
    "the oldest dropped, the repeat ignored",
  );
  assert.deepEqual(feed.after(2500).map((r) => r.t), [3000, 4000]);
  assert.equal(feed.missed(500), true, "a page holding only up to 500 missed row 1000");
  assert.equal(feed.missed(2000), false);
  assert.deepEqual([...feed.columns()], ["cpu_busy_percent"]);
  const epoch = feed.epoch;
  session.setFile(`${dir}/other.parquet`);
  assert.deepEqual(feed.rows(), []);
  assert.equal(feed.epoch, epoch + 1);
  feed.close();
});

Deno.test("layoutTree() puts leaves on rows, parents between their children, and caps the nodes", () => {
  const node = (pid: number, children: TreeNode[] = [], threads = 1): TreeNode => ({
    pid,
    ppid: null,
    name: `p${pid}`,
    threads,
    cmdline: null,
    children,
  });
  const root = node(1, [node(2, [node(4), node(5)]), node(3, [], 100)]);
  const l = layoutTree(root, { column: 100, row: 10, margin: 0 });
  const at = (pid: number) => l.nodes.find((n) => n.node.pid === pid)!;
  assert.deepEqual([at(4).y, at(5).y, at(3).y], [0, 10, 20]);
  assert.equal(at(2).y, 5);
  assert.equal(at(1).y, 12.5);
  assert.deepEqual([at(1).x, at(2).x, at(4).x], [0, 100, 200]);
  assert.ok(at(3).r > at(4).r, "more threads, a larger node");
  assert.equal(l.edges.length, 4);
  assert.equal(l.omitted, 0);
  assert.equal(layoutTree(root, { maxNodes: 3 }).omitted, 2);
  assert.equal(nodeLabel(node(7, [], 3)), "p7(7) t=3");
  assert.equal(nodeLabel({ ...node(8), name: "x".repeat(40) }, 10), "xxxxxxxxx…(8) t=1");
});

Deno.test("diffSnapshots() finds added and removed processes and thread changes (a reused PID is new)", () => {
  const snap = (processes: [number, string, number][]): TreeSnapshot => ({
    pid: 1,
    at: 0,
    processes: processes.map(([pid, name, threads]) => ({ pid, ppid: 1, name, threads })),
  });
  const d = diffSnapshots(
    snap([[1, "init", 1], [2, "a", 1], [3, "b", 4], [4, "c", 1]]),
    snap([[1, "init", 1], [3, "b", 6], [4, "other", 1], [5, "d", 2]]),
  );
  assert.deepEqual(d.added.map((p) => p.pid), [4, 5]);
  assert.deepEqual(d.removed.map((p) => p.pid), [2, 4]);
  assert.deepEqual(d.threads, [{ pid: 3, name: "b", before: 4, after: 6 }]);
  assert.deepEqual([d.before, d.after], [4, 4]);
});

// ---- the page and the sidebar

Deno.test("the page carries the tracing, events and watch sections beside the view", async () => {
  const { app, close } = setup();
  try {
    const { res, text } = await get(app, "/");
    assert.equal(res.status, 200);
    for (
      const re of [
        /<section id="tracing"/,
        /hx-post="\/ui\/trace\/start"/,
        /name="sampleInterval"[^>]*value="0.2"/,
        /Enable GPU/,
        /Enable Docker/,
        /UTC timestamps/,
        />Stop</,
        />Reset</,
        />Snapshot now</,
        /<div id="trace-status"[^>]*hx-get="\/ui\/trace\/status"[^>]*data-state="idle"/,
        /<section id="events"/,
        /hx-post="\/ui\/events\/import" hx-encoding="multipart\/form-data"/,
        /href="\/api\/events\/export.csv"/,
        /id="show-markers"/,
        /<script type="application\/json" id="events-data"\s*>\[\]<\/script>/,
        /<section id="watch"/,
        /name="gpu_mem"/,
        /<select name="mode">/,
        /Auto \(live while tracing, else the file\)/,
      ]
    ) assert.match(text, re);
    // the sections are not part of the view fragment
    const view = (await get(app, "/tab/overview")).text;
    assert.ok(!view.includes('id="tracing"'));
  } finally {
    await close();
  }
});

Deno.test("events from the sidebar: add in the display zone, add now, delete, clear, escaped", async () => {
  const { app, session, close } = setup();
  try {
    let r = await post(app, "/ui/events", {
      name: "<img src=x onerror=alert(1)>",
      date: "2024-05-01",
      time: "09:30",
      zone: "Asia/Tokyo",
    });
    assert.equal(r.res.status, 200);
    const [e] = session.events.list();
    assert.equal(e!.at, Date.UTC(2024, 4, 1, 0, 30), "09:30 in Tokyo");
    assert.match(
      r.text,
      /Added “&lt;img src=x onerror=alert\(1\)&gt;” at 2024-05-01 09:30:00 Asia\/Tokyo/,
    );
    assert.ok(!r.text.includes("<img"), "escaped in the list");
    assert.ok(r.text.includes("\\u003cimg src=x onerror=alert(1)\\u003e"), "escaped in the JSON");

    const before = Date.now();
    r = await post(app, "/ui/events/now", { name: "deploy", date: "1999-01-01", zone: "UTC" });
    assert.equal(r.res.status, 200);
    const now = session.events.list().find((x) => x.name === "deploy")!;
    assert.ok(now.at >= before && now.at <= Date.now(), "now, whatever the date field says");

    r = await post(app, "/ui/events", { name: "", zone: "UTC" });
    assert.equal(r.res.status, 400);
    assert.match(r.text, /class="error"[^>]*>the event name is empty/);
    r = await post(app, "/ui/events", { name: "x", date: "2024-13-01", zone: "UTC" });
    assert.equal(r.res.status, 400);
    assert.match(r.text, /not a valid date and time/);
    r = await post(app, "/ui/events", { name: "x", zone: "Mars/Base" });
    assert.equal(r.res.status, 400);
    assert.match(r.text, /unknown time zone &#39;Mars\/Base&#39;/);

    // the list polls: 204 while nothing changed
    const list = (await get(app, "/ui/events")).text;
    const v = /hx-get="\/ui\/events\/list\?v=([^"]+)"/.exec(list)![1]!;
    assert.equal((await get(app, `/ui/events/list?v=${v}`)).res.status, 204);
    session.events.add({ name: "auto one", at: Date.now(), kind: "auto" });
    const changed = await get(app, `/ui/events/list?v=${v}`);
    assert.equal(changed.res.status, 200);
    assert.match(changed.text, /^<div id="events-list"/);
    assert.match(changed.text, /data-count="3"/);

    r = await post(app, "/ui/events/clear", { kind: "auto" });
    assert.match(r.text, /Removed 1 automatic event\./);
    const id = session.events.list()[0]!.id;
    const del = await app.request(`/ui/events/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: SAME_ORIGIN,
    });
    assert.equal(del.status, 200);
    assert.match(await del.text(), /Deleted/);
    assert.equal(session.events.list().length, 1);
    r = await post(app, "/ui/events/clear", {});
    assert.match(r.text, /Removed 1 event\./);
  } finally {
    await close();
  }
});

Deno.test("Import CSV names every bad line and imports nothing; a good file with a header imports", async () => {
  const { app, session, close } = setup();
  try {
    let r = await post(
      app,
      "/ui/events/import",
      csvForm(
        "event,timestamp\nok,2024-05-01T10:00:00Z\nbad,31/12/2024\nno time\nfine,2024-05-01 12:00\n",
      ),
    );
    assert.equal(r.res.status, 422);
    assert.match(r.text, /nothing imported, 2 bad rows/);
    assert.match(r.text, /<li>line 3: &#39;31\/12\/2024&#39; is not a date and time/);
    assert.match(r.text, /<li>line 4: expected 2 fields/);
    assert.equal(session.events.list().length, 0);

    r = await post(
      app,
      "/ui/events/import",
      csvForm(
        "event,timestamp\nzoned,2024-05-01T10:00:00+02:00\nnaive,2024-05-01 12:00\n",
        "America/Denver",
      ),
    );
    assert.equal(r.res.status, 200);
    assert.match(
      r.text,
      /imported 2 events \(header row recognised\); times without a zone read in America\/Denver/,
    );
    const at = Object.fromEntries(session.events.list().map((e) => [e.name, e.at]));
    assert.equal(at.zoned, Date.UTC(2024, 4, 1, 8));
    assert.equal(at.naive, Date.UTC(2024, 4, 1, 18), "12:00 MDT");
    // export, and it imports back to the same
    const csv = await (await app.request("/api/events/export.csv")).text();
    assert.match(csv, /^event,timestamp,kind\n/);
    assert.match(csv, /naive,2024-05-01T18:00:00.000Z,manual/);

    r = await post(app, "/ui/events/import", new FormData());
    assert.equal(r.res.status, 400);
    assert.match(r.text, /Choose a CSV file/);
    // over 1 MiB: refused
    const big = await post(app, "/ui/events/import", csvForm("x".repeat(1024 * 1024 + 10)));
    assert.equal(big.res.status, 413);
  } finally {
    await close();
  }
});

Deno.test("watch points from the sidebar are validated, saved and kept across sessions", async () => {
  const { app, dir, close } = setup();
  try {
    let r = await post(app, "/ui/watch", { cpu: "90", mem: "", threads: "5000" });
    assert.equal(r.res.status, 200);
    assert.match(r.text, /Watching CPU % &gt; 90, Threads &gt; 5000\./);
    assert.match(r.text, /name="cpu"[^>]*value="90"/);
    r = await post(app, "/ui/watch", { cpu: "150" });
    assert.equal(r.res.status, 400);
    assert.match(r.text, /a percentage threshold is at most 100/);
    const again = new LiveSession({ file: `${dir}/live.parquet` });
    assert.deepEqual(again.watch.thresholds, {
      cpu: 90,
      mem: null,
      threads: 5000,
      processes: null,
      gpu_util: null,
      gpu_mem: null,
    });
    await again.close();
  } finally {
    await close();
  }
});

Deno.test({
  name: "tracing from the sidebar: refusals in the section, then live samples for the charts, Stop",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { app, dir, session, close } = setup();
    try {
      let r = await post(app, "/ui/trace/start", {
        output: "../escape.parquet",
        sampleInterval: "0.2",
        writeInterval: "0.5",
      });
      assert.equal(r.res.status, 400);
      assert.match(r.text, /&#39;\.\.&#39; is not allowed in an output path/);
      assert.match(r.text, /name="output" value="..\/escape.parquet"/, "what was typed stays");
      r = await post(app, "/ui/trace/start", {
        output: "",
        sampleInterval: "0.01",
        writeInterval: "1",
      });
      assert.equal(r.res.status, 400);
      assert.match(r.text, /sampling must be at least 0.1 s/);
      r = await post(app, "/ui/trace/start", {
        output: "x",
        sampleInterval: "abc",
        writeInterval: "1",
      });
      assert.match(r.text, /Sampling must be a number of seconds/);

      r = await post(app, "/ui/trace/start", {
        output: "web.parquet",
        sampleInterval: "0.2",
        writeInterval: "0.5",
        enableGpu: "on",
      });
      assert.equal(r.res.status, 200, r.text);
      assert.equal(r.res.headers.get("HX-Trigger"), "sysmon-refresh");
      assert.match(r.text, /Tracing into .*web\.parquet/);
      assert.match(r.text, /data-state="running"/);
      assert.equal(session.file, `${Deno.realPathSync(dir)}/web.parquet`);
      assert.equal(session.tracer.status().options?.enableGpu, true);
      assert.equal(
        (await post(app, "/ui/trace/start", {
          output: "",
          sampleInterval: "1",
          writeInterval: "1",
        })).res.status,
        409,
      );

      // the page goes live once samples come in; the live URL gives only what is new
      await waitFor(() => app.feed.rows().length >= 2, 20_000, "live rows");
      const page = (await get(app, "/tab/cpu")).text;
      const a = liveAttrs(page);
      assert.equal(a.live, "1");
      assert.match(a.url!, /^\/tab\/cpu\/live\?/);
      await waitFor(() => app.feed.rows().at(-1)!.t > Number(a.since), 10_000, "a new row");
      const url = `${a.url}&since=${a.since}&epoch=${a.epoch}&sig=${a.sig}`;
      const res = await app.request(url);
      assert.equal(res.status, 200);
      const j = await res.json();
      assert.ok(j.count >= 1 && j.last > Number(a.since));
      const panelBlocks = JSON.parse(
        /<script type="application\/json"\s+class="tab-data">(.*?)<\/script>/s.exec(page)![1]!,
      ).blocks;
      assert.equal(j.blocks.length, panelBlocks.length, "one block per panel block");
      for (const [k, b] of j.blocks.entries()) {
        assert.equal(b.s.length, panelBlocks[k].s.length, "the same series, in the same order");
        for (const s of b.s) assert.equal(s.length, b.dt.length + 1);
      }
      assert.ok(j.cards.length === 0, "the CPU tab has no cards");
      // nothing newer: 204; another epoch or layout: reload
      assert.equal(
        (await app.request(`${a.url}&since=${j.last}&epoch=${a.epoch}&sig=${a.sig}`)).status,
        204,
      );
      assert.match(
        JSON.stringify(
          await (await app.request(`${a.url}&since=${j.last}&epoch=0&sig=${a.sig}`)).json(),
        ),
        /reload/,
      );
      assert.match(
        JSON.stringify(
          await (await app.request(`${a.url}&since=${a.since}&epoch=${a.epoch}&sig=x`)).json(),
        ),
        /reload/,
      );
      // File mode never appends
      assert.equal(liveAttrs((await get(app, "/tab/cpu?mode=file")).text).live, "0");
      // the overview's cards come along
      const ov = liveAttrs((await get(app, "/tab/overview")).text);
      await waitFor(() => app.feed.rows().at(-1)!.t > Number(ov.since), 10_000, "a new row");
      const oj =
        await (await app.request(`${ov.url}&since=${ov.since}&epoch=${ov.epoch}&sig=${ov.sig}`))
          .json();
      assert.deepEqual(oj.cards.map((c: { id: string }) => c.id).sort(), [
        "cpu",
        "disk",
        "mem",
        "net",
        "procs",
        "threads",
      ]);

      r = await post(app, "/ui/trace/snapshot");
      assert.equal(r.res.status, 200);
      assert.match(r.text, /Snapshot written: .*web_0\.parquet/);

      r = await post(app, "/ui/trace/stop");
      assert.equal(r.res.status, 200);
      assert.match(r.text, /Stopped: \d+ samples written to/);
      const st = session.tracer.status();
      assert.equal((await readParquet(`${dir}/web.parquet`)).rows.length, st.samples);
      assert.equal(liveAttrs((await get(app, "/tab/cpu")).text).live, "0", "Auto: the file now");
      assert.equal((await post(app, "/ui/trace/stop")).res.status, 409);
    } finally {
      await close();
    }
  },
});

Deno.test("the sidebar's routes refuse cross-site requests and other methods", async () => {
  const { app, session, close } = setup();
  try {
    const refused: Record<string, string>[] = [
      { "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-site" },
      { Origin: "http://evil.example" },
    ];
    for (const headers of refused) {
      const res = await app.request("/ui/events/now", {
        method: "POST",
        body: new URLSearchParams({ name: "csrf" }),
        headers,
      });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match((await res.json()).error, /cross-site request refused/);
    }
    assert.equal(session.events.list().length, 0);
    assert.equal((await app.request("/ui/trace/start", { method: "PUT" })).status, 405);
    assert.equal((await app.request("/ui/trace/start")).status, 404, "no GET that changes state");
    assert.equal(
      (await app.request("http://evil.example/", { headers: { Host: "evil.example" } })).status,
      421,
      "a loopback server answers loopback names only (DNS rebinding)",
    );
  } finally {
    await close();
  }
});

// ---- the Process Tree tab (over a fixture /proc)

Deno.test("the Process Tree tab: text view, totals, bars, hostile names escaped", async () => {
  const { app, close } = setup();
  try {
    const { res, text } = await get(app, "/tab/proctree?pid=200");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("HX-Push-Url"), "/?file=live.parquet&tab=proctree&pid=200");
    assert.match(
      text,
      /Total Processes: <strong>6<\/strong> • Total Threads:\s*<strong>13<\/strong>/,
    );
    assert.match(text, /<span class="pt-name">bash<\/span>\(200\) \[threads=1\]/);
    assert.match(
      text,
      /<span class="pt-guide">├─ <\/span><span class="pt-name">&lt;script&gt;<\/span>\(302\)/,
    );
    assert.match(
      text,
      /<span class="pt-name">evil\) \(x\\ny<\/span>\(300\)/,
      "newline shown as \\n",
    );
    assert.match(text, /\\x1b\[31mred\\x1b\[0m/, "escape sequences shown as text");
    assert.ok(!text.includes("<script>"), "no markup from a name");
    assert.ok(!text.includes("\x1b"), "no raw escape character");
    assert.match(text, /<figcaption>Threads by command<\/figcaption><svg class="bars"/);
    assert.match(text, /class="bar-label"[^>]*>my worker<\/text>/);
  } finally {
    await close();
  }
});

Deno.test("the Process Tree tab: the graph view, laid out on the server", async () => {
  const { app, close } = setup();
  try {
    const { text } = await get(app, "/tab/proctree?pid=200&pt=graph");
    const nodes = [
      ...text.matchAll(
        /<g class="pt-node[^"]*" transform="translate\(([\d.]+),([\d.]+)\)"[^>]*data-pid="(\d+)"/g,
      ),
    ];
    assert.deepEqual(nodes.map((n) => Number(n[3])).sort((a, b) => a - b), [
      200,
      300,
      301,
      302,
      303,
      305,
    ]);
    assert.equal([...text.matchAll(/<path d="M/g)].length, 5, "one edge per child");
    assert.match(text, /data-name="&lt;script&gt;"/);
    assert.match(text, /<text x="[\d.]+" dy="0.35em">my worker\(303\) t=8<\/text>/);
    // a node with 8 threads is drawn larger than one with 1
    const r = (pid: number) =>
      Number(new RegExp(`data-pid="${pid}"[^>]*>.*?<circle r="([\\d.]+)"`, "s").exec(text)![1]);
    assert.ok(r(303) > r(302));
  } finally {
    await close();
  }
});

Deno.test("Find PID matches names and command lines, case-insensitively, as PID • user • thr • name — cmdline", async () => {
  const { app, close } = setup();
  try {
    let { text } = await get(app, "/ui/proctree/find?q=NGINX&tab=proctree&tz=UTC");
    assert.match(text, /^<div id="pt-matches"/);
    assert.match(text, /href="\/\?tab=proctree&amp;tz=UTC&amp;pid=510"/);
    assert.match(text, /510 • [^•]+ • thr=1 • nginx/);
    ({ text } = await get(app, "/ui/proctree/find?q=%3Cscript"));
    assert.match(text, /302 • [^•]+ • thr=1 • &lt;script&gt;/);
    ({ text } = await get(app, "/ui/proctree/find?q=splash")); // command line only
    assert.match(text, /1 • [^•]+ • thr=1 • systemd<span class="pt-cmd"> — \/sbin\/init splash/);
    ({ text } = await get(app, "/ui/proctree/find?q=zzzz-nothing"));
    assert.match(text, /No process matches “zzzz-nothing”/);
  } finally {
    await close();
  }
});

Deno.test("Process Tree snapshots compare, and a PID that cannot be seen says why", async () => {
  const roots = fixtureRoots();
  const session = new LiveSession({ file: `${tempDir()}/t.parquet` });
  const app = createApp({ session, procRoots: roots });
  try {
    let r = await app.request("/ui/proctree/compare?pid=200");
    assert.equal(r.status, 422);
    assert.match(await r.text(), /No snapshot of PID 200 yet/);
    r = await app.request("/ui/proctree/snapshot", {
      method: "POST",
      body: new URLSearchParams({ pid: "200" }),
      headers: SAME_ORIGIN,
    });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /Snapshot of PID 200 taken at .*: 6 processes/);
    // 303 exits, 301 gains threads
    Deno.removeSync(`${roots.proc}/303`, { recursive: true });
    const stat = Deno.readTextFileSync(`${roots.proc}/301/stat`).split(" ");
    const close = stat.findIndex((f) => f.endsWith(")")); // the name may hold spaces
    stat[close + 18] = "4"; // field 20: num_threads
    Deno.writeTextFileSync(`${roots.proc}/301/stat`, stat.join(" "));
    r = await app.request("/ui/proctree/compare?pid=200");
    const text = await r.text();
    assert.match(text, /Removed \(1\):<\/strong> my worker\(303\)/);
    assert.match(text, /Added \(0\):<\/strong> none/);
    assert.match(text, /Thread changes \(1\):<\/strong> \\x1b\[31mred\\x1b\[0m\(301\) 1 → 4/);
    assert.match((await get(app, "/tab/proctree?pid=200")).text, /Snapshot of PID 200 taken at/);

    const gone = (await get(app, "/tab/proctree?pid=99999")).text;
    assert.match(gone, /PID 99999 cannot be shown/);
    assert.match(gone, /no process 99999/);
    assert.match(
      (await get(app, "/tab/proctree?pid=abc")).text,
      /&#39;abc&#39; is not a process id/,
    );
    assert.equal(
      byCommand({
        root: { pid: 1, ppid: 0, name: "a", threads: 2, cmdline: null, children: [] },
        unplaced: 0,
      })[0]!.total_threads,
      2,
    );
  } finally {
    await app.close();
    await session.close();
  }
});

// ---- a file another `sysmon run` writes

Deno.test({
  name:
    "a file another sysmon run writes goes live: its new rows reach the charts, at their own times",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = tempDir();
    const file = `${dir}/other.parquet`;
    const session = new LiveSession({ file, followIntervalMs: 100 });
    const app = createApp({ session, refreshMs: 60_000 });
    await session.follow();
    const run = spawnSysmon([
      "run",
      "-o",
      file,
      "--sample-interval",
      "0.2",
      "--write-interval",
      "0.3",
      "--fold-interval",
      "1",
      "--duration",
      "4",
      "--no-gpu",
      "--no-docker",
      "-q",
    ]);
    try {
      await waitFor(() => app.feed.rows().length >= 3, 20_000, "followed rows");
      assert.equal(app.feed.active(), true);
      const a = liveAttrs((await get(app, "/tab/overview")).text);
      assert.equal(a.live, "1", "Auto: the growing file is live");
      await waitFor(() => app.feed.rows().at(-1)!.t > Number(a.since), 10_000, "more rows");
      const j = await (await app.request(`${a.url}&since=${a.since}&epoch=${a.epoch}&sig=${a.sig}`))
        .json();
      assert.ok(j.count >= 1, JSON.stringify(j).slice(0, 200));
      assert.equal((await run.status).code, 0);
      // every followed row has the instant the file holds for that sample
      const fileTimes = new Set(
        (await readParquet(file)).rows.map((r) => (r.timestamp as Date).getTime()),
      );
      const offset = (t: number) => new Date(t).getTimezoneOffset() * 60_000;
      for (const r of app.feed.rows()) {
        assert.ok(fileTimes.has(r.t - offset(r.t)), `row at ${r.t} is in the file`);
      }
    } finally {
      try {
        run.kill();
      } catch {
        // finished
      }
      await app.close();
      await session.close();
    }
  },
});

// ---- the real `sysmon serve`

Deno.test({
  name: "sysmon serve --host 0.0.0.0 needs its token: 401 without, ?token= sets a cookie, then 200",
  sanitizeResources: false,
  fn: async () => {
    const file = `${tempDir()}/t.parquet`;
    const serve = await startServe(["--port", "0", "--host", "0.0.0.0", file]);
    const out = serve.out;
    try {
      const m = /sysmon serve: (http:\/\/127\.0\.0\.1:(\d+)\/)\?token=([A-Za-z0-9_-]{43})\n/.exec(
        out,
      );
      assert.ok(m, out);
      const [, base, port, token] = m as unknown as [string, string, string, string];
      assert.match(out, /every request needs the token/);
      for (
        const path of ["", "api/events", "ui/trace/status", "static/js/main.js", "tab/proctree"]
      ) {
        const res = await fetch(`${base}${path}`);
        assert.equal(res.status, 401, path);
        await res.body?.cancel();
      }
      const wrong = await fetch(`${base}?token=${"x".repeat(43)}`, { redirect: "manual" });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
      const first = await fetch(`${base}?token=${token}`, { redirect: "manual" });
      assert.equal(first.status, 303);
      assert.equal(first.headers.get("location"), "/");
      const cookie = first.headers.get("set-cookie")!;
      assert.match(cookie, new RegExp(`^sysmon_token_${port}=${token};`));
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      await first.body?.cancel();
      const page = await fetch(base, { headers: { Cookie: cookie.split(";")[0]! } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /System Resource Monitor/);
      const api = await fetch(`${base}api/trace/status`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(api.status, 200);
      assert.equal((await api.json()).following, true);
    } finally {
      await serve.stop();
    }
  },
});

Deno.test("sysmon serve: --no-auth off loopback warns; a short --token exits 2", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--host", "0.0.0.0", "--token", "short", "x.parquet"],
    stdin: "null",
  }).output();
  assert.equal(r.code, 2);
  assert.match(new TextDecoder().decode(r.stderr), /at least 16 characters/);
  const file = `${tempDir()}/t.parquet`;
  const serve = await startServe(["--port", "0", "--host", "0.0.0.0", "--no-auth", file]);
  try {
    assert.match(serve.out, /WITHOUT authentication \(--no-auth\)/);
    const res = await fetch(serve.url);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    const { stderr } = await serve.stop();
    assert.match(stderr, /--no-auth: anyone who can reach 0\.0\.0\.0/);
  }
});

Deno.test({
  name:
    "sysmon serve without a file traces this machine into system_monitor.parquet and shows it live",
  sanitizeResources: false,
  fn: async () => {
    const dir = tempDir();
    const serve = await startServe(["--port", "0", "--sample-interval", "0.5"], { cwd: dir });
    const out = serve.out;
    let all = "";
    try {
      assert.match(out, new RegExp(`data file: ${Deno.realPathSync(dir)}/system_monitor.parquet`));
      assert.match(out, /tracing this machine every 0.5 s/);
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
      const status = async () => await (await fetch(`${url}api/trace/status`)).json();
      const deadline = Date.now() + 20_000;
      while ((await status()).samples < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const page = await (await fetch(url)).text();
      assert.equal(liveAttrs(page).live, "1");
      assert.match(page, /data-state="running"/);
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0);
      all = stopped.out;
    }
    assert.match(all, /tracing stopped: \d+ samples in .*system_monitor\.parquet/);
    const n = Number(/tracing stopped: (\d+) samples/.exec(all)![1]);
    assert.equal((await readParquet(`${dir}/system_monitor.parquet`)).rows.length, n);
  },
});

Deno.test("a request htmx sends that fails outside its section swaps nothing and flashes why", async () => {
  const { app, close } = setup();
  try {
    const form = new FormData();
    form.append("file", new File([new Uint8Array(1100 * 1024).fill(65)], "big.csv"));
    const big = await app.request("/ui/events/import", {
      method: "POST",
      body: form,
      headers: { ...SAME_ORIGIN, "HX-Request": "true" },
    });
    assert.equal(big.status, 413);
    assert.equal(big.headers.get("HX-Reswap"), "none"); // the Events section stays as it is
    assert.deepEqual(JSON.parse(big.headers.get("HX-Trigger")!), {
      "sysmon-error": "413: the request body is larger than 1 MiB",
    });
    await big.body?.cancel();
    const tab = await app.request("/tab/nope", { headers: { "HX-Request": "true" } });
    assert.equal(tab.status, 404);
    assert.equal(tab.headers.get("HX-Reswap"), "none");
    // Non-ASCII in a message travels escaped: a header carries bytes.
    const zone = await app.request("/tab/nop%C3%A9", { headers: { "HX-Request": "true" } });
    assert.equal(zone.status, 404);
    const header = zone.headers.get("HX-Trigger")!;
    assert.match(header, /^[\x20-\x7e]+$/);
    assert.deepEqual(JSON.parse(header), { "sysmon-error": "404: No tab 'nopé'." });
    await tab.body?.cancel();
    await zone.body?.cancel();
  } finally {
    await close();
  }
});
