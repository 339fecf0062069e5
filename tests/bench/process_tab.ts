// The Processes tab's queries over the serve bench's 1,000,000-row trace (11.6 days at 1 s, 14
// processes a sample from a pool of 40; serve_query.ts writes it once into the temp
// directory): the list of every process of a range with the candidates of each chart (one
// scan), the series of the picked ones (one scan), a search, one process's history, and the
// whole tab through the app (trace opened first), for 30 minutes, a day and the whole trace;
// the same over the same rows as hourly files (when `deno task bench serve` wrote them). Each
// figure is the first request of its kind in a process of its own (nothing cached), "again" the
// same request repeated (answers are kept per version). Peak RSS is the measuring process's.
import { residentMiB } from "./memory.ts";
import { buildTrace, tracePath } from "./serve_query.ts";

const RANGES = [["30 min", 30 * 60_000], ["1 day", 86_400_000], ["all", Infinity]] as const;

/** The data layer's queries of one range, in a process of its own. */
async function measure(path: string, rangeIndex: number) {
  const { openTrace } = await import("../../src/query/source.ts");
  const { topProcessSeries, historyWindow } = await import("../../src/query/process_charts.ts");
  const { topOrders } = await import("../../src/query/process_merge.ts");
  const src = await openTrace(path, { defaultZone: "UTC", warm: false });
  const meta = await src.meta();
  const [label, ms] = RANGES[rangeIndex]!;
  const end = meta.last!, start = Number.isFinite(ms) ? end - ms : meta.first!;
  const orders = [{ by: "cpu_peak" as const, limit: 100 }, ...topOrders(10)];
  const [listMs, list] = await time(() => src.processList({ start, end, orders }));
  const [seriesMs, top] = await time(() =>
    topProcessSeries(src, { start, end, points: 800, top: 10, list })
  );
  const [againMs] = await time(() => src.processList({ start, end, orders }));
  const [searchMs, found] = await time(() =>
    src.processList({ start, end, search: "chromium", orders: [{ by: "cpu_peak", limit: 100 }] })
  );
  const one = top.top.cpu[0]!;
  const w = historyWindow(one, { start, end });
  const [historyMs, history] = await time(() =>
    src.processSeries({ keys: [one], ...w, points: 800 })
  );
  await src.close();
  return {
    range: label,
    rows: top.series.rows,
    processes: list.total,
    listMs,
    seriesMs,
    againMs,
    searchMs,
    found: found.total,
    historyMs,
    historyPoints: history.t.length,
    peakRss: residentMiB().peak,
  };
}

/** The whole tab through the app, as a page asks for it, in a process of its own. */
async function measureTab(path: string, rangeIndex: number) {
  const { createApp } = await import("../../src/server/app.ts");
  const app = createApp({ file: path });
  const [label] = RANGES[rangeIndex]!;
  const q = label === "all" ? "range=all" : label === "1 day" ? "range=24h" : "";
  await (await app.request("/api/meta")).text(); // the trace opened (not counted)
  const [tabMs, res] = await time(async () => await app.request(`/tab/processes?${q}`));
  const html = await res.text();
  const [againMs] = await time(async () => await (await app.request(`/tab/processes?${q}`)).text());
  await app.close();
  return { tabMs, againMs, tabKB: html.length / 1000, peakRss: residentMiB().peak };
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

type Measured = Awaited<ReturnType<typeof measure>>;
type Tab = Awaited<ReturnType<typeof measureTab>>;

async function child<T = Measured>(path: string, range: number, tab = false): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      import.meta.filename!,
      tab ? "--tab" : "--measure",
      String(range),
      path,
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`process-tab measurement ${range} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

export async function processTabBench(opts: { segments?: boolean } = {}) {
  const path = tracePath();
  try {
    Deno.statSync(path);
  } catch {
    console.error(`process-tab: writing the serve bench's trace to ${path} (once)…`);
    buildTrace(path);
  }
  const ms = (x: number) => x.toFixed(0).padStart(6);
  const files: [string, string][] = [["one file", path]];
  if (opts.segments !== false) {
    try {
      Deno.statSync(`${path}.segments/serve.parquet`);
      files.push(["hourly files", `${path}.segments/serve.parquet`]);
    } catch {
      // `deno task bench serve` writes them
    }
  }
  for (const [what, file] of files) {
    console.log(`Processes tab over 1,000,000 rows × 14 processes (${what}):`);
    console.log(
      "  range   |   list series  again search history | peak RSS | tab: first again   KB | peak RSS",
    );
    for (let i = 0; i < RANGES.length; i++) {
      const r = await child(file, i);
      const t = await child<Tab>(file, i, true);
      console.log(
        `  ${r.range.padEnd(7)} | ${ms(r.listMs)}${ms(r.seriesMs)}${ms(r.againMs)}${
          ms(r.searchMs)
        }${ms(r.historyMs)}  | ${r.peakRss.toFixed(0).padStart(4)} MiB | ${
          ms(t.tabMs).padStart(10)
        }${ms(t.againMs)} ${t.tabKB.toFixed(0).padStart(4)} | ${
          t.peakRss.toFixed(0).padStart(4)
        } MiB`,
      );
    }
  }
  console.log(
    `  (ms; each range in processes of their own: the data layer's queries, then the tab ` +
      `through the app; again: the same request repeated; ${Deno.loadavg()[0]} load)`,
  );
}

if (import.meta.main) {
  const i = Deno.args.findIndex((a) => a === "--measure" || a === "--tab");
  if (i >= 0) {
    const [path, range] = [Deno.args[i + 2]!, Number(Deno.args[i + 1])];
    const r = Deno.args[i] === "--tab" ? await measureTab(path, range) : await measure(path, range);
    console.log(JSON.stringify(r));
  } else await processTabBench();
}
