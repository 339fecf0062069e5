// `sysmon serve` tracing this machine live at 1 Hz while N clients poll the live view as the
// page does: each loads the Overview fragment once, then every second asks for the samples
// newer than its own (/tab/overview/live?since=…) and the tracing status (/ui/trace/status),
// and every 3 s the events list (/ui/events/list?v=…). 20 clients against the baseline of 1.
//
// Reported: errors (must be 0), latency of the polled requests (p99 under 200 ms), sampling
// jitter (the tracer's own lateMs for every sample, read from /api/trace/rows; p99 under
// 50 ms), and the server's RSS at the start and end of the phase (flat).
//
//   deno run -A tests/bench/live_load.ts [seconds per phase, default 60]
import { V8_FLAGS } from "../../src/tracer/v8_flags.ts"; // as `deno task demo` runs it
import { describeRss, residentMiB, type Rss } from "./memory.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CLIENTS = 20;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Phase {
  clients: number;
  requests: number;
  errors: string[];
  reloads: number;
  /** The polled requests, and (apart) each client's first view. */
  latency: { live: number[]; status: number[]; events: number[]; view: number[] };
  appended: number;
  late: number[];
  rss: { start: Rss; end: Rss; tracer: Rss | null };
}

/** The panel's live attributes in a view fragment. */
function liveAttrs(html: string) {
  const panel = /<section id="panel"[^>]*>/.exec(html)?.[0] ?? "";
  const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(panel)?.[1] ?? "";
  return {
    live: attr("data-live"),
    url: attr("data-live-url").replaceAll("&amp;", "&"),
    since: attr("data-since"),
    epoch: attr("data-epoch"),
    sig: attr("data-sig"),
  };
}

async function phase(clients: number, seconds: number): Promise<Phase> {
  const dir = Deno.makeTempDirSync({ prefix: "sysmon-live-load-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      V8_FLAGS,
      MAIN,
      "serve",
      "--port",
      "0",
      "--sample-interval",
      "1",
      "--write-interval",
      "5",
    ],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/data file: .*\n[^]*tracing/.test(text)) {
    const { value, done } = await out.read();
    if (done) throw new Error(`sysmon serve exited: ${text}`);
    text += value;
  }
  const base = /http:\/\/127\.0\.0\.1:\d+\//.exec(text)![0];
  const drain = (async () => {
    while (!(await out.read()).done) { /* keep the pipe flowing */ }
  })();
  const r: Phase = {
    clients,
    requests: 0,
    errors: [],
    reloads: 0,
    latency: { live: [], status: [], events: [], view: [] },
    appended: 0,
    late: [],
    rss: { start: residentMiB(), end: residentMiB(), tracer: null },
  };
  try {
    // Warm up: the first write (the file appears), the page twice (the data engine starts and
    // reads the file), a few seconds to settle.
    for (let i = 0; i < 150; i++) {
      const st = await (await fetch(`${base}api/trace/status`)).json();
      if (st.rowsWritten > 0 && st.fileBytes) {
        r.rss.tracer = st.pid ? residentMiB(st.pid) : null;
        break;
      }
      await sleep(200);
    }
    for (let i = 0; i < 2; i++) {
      await (await fetch(base)).text();
      await (await fetch(`${base}tab/cpu`)).text();
    }
    await sleep(3000);

    // The tracer's lateness for every sample, from the row stream.
    const rows = new AbortController();
    const stream = (async () => {
      try {
        const res = await fetch(`${base}api/trace/rows`, { signal: rows.signal });
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i: number;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const m = /^data: (.*)$/m.exec(buf.slice(0, i));
            buf = buf.slice(i + 2);
            if (m) {
              const row = JSON.parse(m[1]!);
              if (typeof row.lateMs === "number") r.late.push(Math.abs(row.lateMs));
            }
          }
        }
      } catch (err) {
        if (!rows.signal.aborted) r.errors.push(`rows stream: ${(err as Error).message}`);
      }
    })();

    r.rss.start = residentMiB(child.pid);
    const end = Date.now() + seconds * 1000;
    const timed = async (kind: keyof Phase["latency"], url: string) => {
      const t0 = performance.now();
      try {
        const res = await fetch(url);
        const body = await res.text();
        r.latency[kind].push(performance.now() - t0);
        r.requests++;
        if (res.status !== 200 && res.status !== 204) {
          r.errors.push(`${res.status} ${url}: ${body.slice(0, 120)}`);
          return null;
        }
        return { status: res.status, body };
      } catch (err) {
        r.errors.push(`${url}: ${(err as Error).message}`);
        return null;
      }
    };
    const client = async (k: number) => {
      await sleep((1000 * k) / clients); // spread over the second, as real pages are
      let view = liveAttrs((await timed("view", `${base}tab/overview`))?.body ?? "");
      let since = view.since;
      let events = "";
      for (let tick = 0; Date.now() < end; tick++) {
        const started = Date.now();
        const live = await timed(
          "live",
          `${base.slice(0, -1)}${view.url}&since=${since}&epoch=${view.epoch}&sig=${view.sig}`,
        );
        if (live?.status === 200) {
          const j = JSON.parse(live.body);
          if (j.reload || j.live === false) {
            r.reloads++;
            view = liveAttrs((await timed("view", `${base}tab/overview`))?.body ?? "");
            since = view.since;
          } else {
            since = String(j.last);
            r.appended += j.count;
          }
        }
        await timed("status", `${base}ui/trace/status`);
        if (tick % 3 === 0) {
          const ev = await timed("events", `${base}ui/events/list?v=${events}`);
          if (ev?.status === 200) events = /list\?v=([^"]+)"/.exec(ev.body)?.[1] ?? "";
        }
        await sleep(Math.max(0, 1000 - (Date.now() - started)));
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, k) => client(k)));
    r.rss.end = residentMiB(child.pid);
    rows.abort();
    await stream;
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await drain;
    Deno.removeSync(dir, { recursive: true });
  }
  return r;
}

export async function liveLoadBench(seconds = 60) {
  const baseline = await phase(1, seconds);
  const loaded = await phase(CLIENTS, seconds);
  const all = (p: Phase) => [...p.latency.live, ...p.latency.status, ...p.latency.events];
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const line = (p: Phase) => {
    const lat = all(p);
    return `  ${String(p.clients).padStart(2)} client${p.clients === 1 ? " " : "s"}: ` +
      `${p.requests} requests, ${p.errors.length} errors, ${p.reloads} reloads, ` +
      `${p.appended} samples appended; latency p50 ${ms(percentile(lat, 50))} ` +
      `p99 ${ms(percentile(lat, 99))} (live p99 ${ms(percentile(p.latency.live, 99))}, ` +
      `status p99 ${ms(percentile(p.latency.status, 99))}; first view p99 ` +
      `${ms(percentile(p.latency.view, 99))}); sampling jitter p50 ` +
      `${ms(percentile(p.late, 50))} p99 ${ms(percentile(p.late, 99))} (${p.late.length} ` +
      `samples); server ${describeRss(p.rss.start)} → ${describeRss(p.rss.end)} (tracer ` +
      `child ${p.rss.tracer ? describeRss(p.rss.tracer) : "not read"})`;
  };
  const p99 = percentile(all(loaded), 99);
  const j99 = percentile(loaded.late, 99);
  const growth = loaded.rss.end.total - loaded.rss.start.total;
  const pssGrowth = loaded.rss.end.pss - loaded.rss.start.pss;
  const ratio = (a: number, b: number) => (a / Math.max(b, 0.1)).toFixed(2);
  console.log(
    `live load (sysmon serve tracing at 1 Hz, clients polling the live Overview, ${seconds} s ` +
      `per phase, ${navigator.hardwareConcurrency} CPUs):\n${line(baseline)}\n${line(loaded)}\n` +
      `  ratios ${CLIENTS} clients / 1: latency p99 ${
        ratio(p99, percentile(all(baseline), 99))
      }, ` +
      `jitter p99 ${ratio(j99, percentile(baseline.late, 99))}, RSS growth ` +
      `${growth.toFixed(1)} MiB (PSS ${pssGrowth.toFixed(1)}) vs ` +
      `${(baseline.rss.end.total - baseline.rss.start.total).toFixed(1)} MiB\n` +
      `  targets: errors 0: ${loaded.errors.length === 0 ? "met" : "NOT MET"}; p99 latency ` +
      `< 200 ms: ${p99 < 200 ? "met" : "NOT MET"}; jitter p99 < 50 ms: ` +
      `${j99 < 50 ? "met" : "NOT MET"}; RSS flat (< 10 MiB growth): ` +
      `${growth < 10 ? "met" : "NOT MET"}`,
  );
  for (const e of [...baseline.errors, ...loaded.errors].slice(0, 10)) console.log(`  error: ${e}`);
  return { baseline, loaded };
}

if (import.meta.main) await liveLoadBench(Number(Deno.args[0] ?? 60));
