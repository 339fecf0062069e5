// The dashboard's queries over a 1,000,000-row trace (11.6 days at 1 s): opening it, each
// tab's data for the whole trace and for the last 30 minutes, the size of each answer, and
// the server's peak resident memory, against a baseline that sends every point. "Cold" is a
// tab's first request after the trace is opened (each tab in a process of its own, with the
// background warm-up off: nothing summarised yet); "warm" the fastest of two more.
//
// The trace is written once by sysmon's own writer (ParquetTrace: sealed row groups of 3,600
// rows, zstd, sysmon metadata) and kept in the temp directory for later runs. Its rows have
// the shape of this machine's (SystemSampler), plus one GPU, two containers and the
// `processes` column (14 processes a sample). Each measurement runs in its own process so
// that its peak RSS is the server's alone.
import { describeRss, residentMiB } from "./memory.ts";
import {
  type ColumnDef,
  columnDef,
  type ProcessRecord,
  type Row,
} from "../../src/schema/columns.ts";
import { gpuColumnNames } from "../../src/schema/gpu_columns.ts";
import {
  DOCKER_METRICS,
  dockerColumnDef,
  dockerColumnName,
} from "../../src/schema/docker_columns.ts";
import { newTraceId, traceMetadata } from "../../src/store/metadata.ts";
import { ParquetTrace } from "../../src/store/parquet_trace.ts";
import { segmentPath } from "../../src/store/segments.ts";
import { SystemSampler } from "../../src/collect/system.ts";

const ROWS = 1_000_000;
const GROUP = 3600;
const VERSION = "v3";

export function tracePath(): string {
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/sysmon-bench`;
  Deno.mkdirSync(dir, { recursive: true });
  return `${dir}/serve-${ROWS}-${VERSION}.parquet`;
}

const defOf = (name: string): ColumnDef =>
  columnDef(name) ?? dockerColumnDef(name) ?? { name, kind: "double", unit: "", help: "" };

/** Rows like this machine's, one a second, with noise, spikes, a GPU and two containers. */
function rowMaker(start: number) {
  const base = new SystemSampler().sample();
  delete base.processes;
  const counters = Object.keys(base).filter((k) =>
    typeof base[k] === "number" && Number.isInteger(base[k]) && !k.includes("percent") &&
    !k.includes("utilization") && !k.endsWith("_per_sec") && k !== "timestamp"
  );
  const state: Record<string, number> = {};
  for (const k of counters) state[k] = base[k] as number;
  let seed = 1;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const pool = Array.from({ length: 40 }, (_, i) => ({
    pid: 100 + i * 37,
    name: ["postgres", "python3", "node", "deno", "chromium", "dockerd", "sshd", "nginx"][i % 8]!,
    rss: 50_000_000 + i * 3_000_000,
  }));
  let i = 0;
  return (): Row => {
    const row: Row = { ...base, timestamp: (start + i * 1000) * 1000 };
    for (const k of counters) {
      state[k]! += Math.floor(rand() * rand() * 5000);
      row[k] = state[k]!;
    }
    for (const k of Object.keys(base)) {
      if (k.endsWith("_utilization") || k.endsWith("_percent")) {
        row[k] = i % 9973 === 0 ? 100 : Math.round(rand() * rand() * 10000) / 100;
      } else if (/^(net_(err|drop)|swap_)/.test(k)) {
        row[k] = i % 5000 === 0 ? Math.floor(rand() * 100) : 0; // rare on a healthy machine
      } else if (k.endsWith("_per_sec")) row[k] = Math.floor(rand() * rand() * 50000) / 1.0003;
    }
    const [total, used, free, util, temp, ...rest] = gpuColumnNames(0);
    row[total!] = 85_899_345_920;
    row[used!] = 20_000_000_000 + Math.floor(rand() * 1e9);
    row[free!] = 85_899_345_920 - (row[used!] as number);
    row[util!] = Math.round(rand() * 100);
    row[temp!] = 40 + Math.floor(rand() * 30);
    for (const c of rest) row[c] = Math.round(rand() * 1000) / 10;
    for (const name of ["web", "db"]) {
      for (const m of DOCKER_METRICS) {
        row[dockerColumnName(name, m)] = Math.round(rand() * 1e6) / 100;
      }
    }
    // Top processes as /proc gives them: CPU in whole ticks (1 % at 1 s), resident memory
    // moving now and then by pages, I/O mostly idle.
    const procs: ProcessRecord[] = [];
    for (let k = 0; k < 14; k++) {
      const p = pool[(Math.floor(i / 60) + k * 3) % pool.length]!;
      if (rand() < 0.1) p.rss += 4096 * Math.floor((rand() - 0.5) * 64);
      procs.push({
        pid: p.pid,
        ppid: 1,
        name: p.name,
        cmdline: `/usr/bin/${p.name} --worker ${p.pid}`,
        user: k % 3 ? "root" : "app",
        cpu_percent: Math.floor(rand() * rand() * 200),
        rss_bytes: p.rss,
        threads: 1 + (p.pid % 17),
        read_bytes_per_sec: k % 4 || rand() < 0.8 ? 0 : 4096 * Math.floor(rand() * 256),
        write_bytes_per_sec: k % 5 || rand() < 0.8 ? 0 : 4096 * Math.floor(rand() * 256),
        container: k % 7 ? null : "web",
        gpu_memory_bytes: null,
      });
    }
    row.processes = procs;
    i++;
    return row;
  };
}

/** Writes the trace with sysmon's writer (a fold per sealed row group), once. */
export function buildTrace(path: string) {
  const tmp = `${path}.building`;
  try {
    Deno.removeSync(tmp);
  } catch { /* none left */ }
  const start = Date.UTC(2026, 0, 5, 0, 0, 0);
  const next = rowMaker(start);
  const trace = new ParquetTrace({ path: tmp, utc: true, rowGroupRows: GROUP });
  const meta = { utc: true, sampleInterval: 1, traceId: newTraceId() };
  const t0 = performance.now();
  for (let done = 0; done < ROWS; done += GROUP) {
    const rows: Row[] = [];
    for (let k = 0; k < Math.min(GROUP, ROWS - done); k++) rows.push(next());
    trace.add(rows, defOf);
    trace.fold(traceMetadata(meta, trace.columns));
    if ((done / GROUP) % 50 === 0) {
      console.error(
        `  building the trace: ${done} rows (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
  }
  trace.fold(traceMetadata(meta, trace.columns));
  Deno.renameSync(tmp, path);
}

/**
 * The same rows as `run` lays them out (src/store/segments.ts): one file per row group,
 * `serve.parquet`, `serve.0001.parquet`, … in a directory beside the trace, once.
 */
function buildSegments(path: string): string {
  const dir = `${path}.segments`;
  const base = `${dir}/serve.parquet`;
  try {
    Deno.statSync(base);
    return base;
  } catch { /* build it */ }
  Deno.mkdirSync(dir, { recursive: true });
  const next = rowMaker(Date.UTC(2026, 0, 5, 0, 0, 0));
  const meta = { utc: true, sampleInterval: 1, traceId: newTraceId() };
  const files: string[] = [];
  for (let done = 0, n = 0; done < ROWS; done += GROUP, n++) {
    const rows: Row[] = [];
    for (let k = 0; k < Math.min(GROUP, ROWS - done); k++) rows.push(next());
    const file = segmentPath(base, n);
    const trace = new ParquetTrace({ path: `${file}.building`, utc: true, rowGroupRows: GROUP });
    trace.add(rows, defOf);
    trace.fold({ ...traceMetadata(meta, trace.columns), "sysmon.first_row": String(done) });
    files.push(file);
  }
  // The first file last: until it is there, the next bench run builds them again.
  for (const f of files.reverse()) Deno.renameSync(`${f}.building`, f);
  return base;
}

// -------------------------------------------------------------------------------------------
// Measurements (in a child process)

interface Tab {
  name: string;
  columns: string[];
}

function tabs(columns: string[]): Tab[] {
  const has = (c: string) => columns.includes(c);
  return [
    {
      name: "overview",
      columns: [
        "cpu_busy_percent",
        "sys_used",
        "sys_total",
        "system_process_count",
        "system_thread_count",
        "net_bytes_recv_per_sec",
        "net_bytes_sent_per_sec",
        "disk_read_bytes_per_sec",
        "disk_write_bytes_per_sec",
      ].filter(has),
    },
    {
      name: "cpu+memory",
      columns: columns.filter((c) =>
        /^cpu_\d+_utilization$/.test(c) ||
        ["cpu_busy_percent", "sys_used", "sys_total", "total_open_files", "fd_usage_percent"]
          .includes(c)
      ),
    },
    {
      name: "i/o",
      columns: columns.filter((c) => /^(disk|net)_.*_per_sec$/.test(c)).slice(0, 10),
    },
    { name: "gpu", columns: columns.filter((c) => /^gpu_0_(utilization|used|total)$/.test(c)) },
    {
      name: "containers",
      columns: columns.filter((c) => /^docker_.*_(cpu_percent|mem_percent|open_files)$/.test(c)),
    },
  ];
}

function peakRssMiB(): number {
  return residentMiB().peak;
}

/** At the end of a measurement: what the process holds now, as RSS, PSS and USS. */
const memoryNow = () => describeRss(residentMiB());

interface TabResult {
  tab: string;
  columns: number;
  range: string;
  /** The first request of the tab (summaries of its columns built now, when not warmed). */
  cold: number;
  /** The fastest of two more. */
  ms: number;
  bytes: number;
  positions: number;
}

/**
 * Through the API, as a browser would: time to the full JSON body, and its size. "reduced"
 * is the server (background warm-up off, so that cold figures are the worst case);
 * "baseline" answers every row of the range, as the original dashboard did.
 */
async function measure(path: string, mode: "reduced" | "baseline") {
  const { apiRoutes } = await import("../../src/server/routes/api.ts");
  const { openTrace } = await import("../../src/query/source.ts");
  const { engine } = await import("../../src/query/engine.ts");
  const e0 = performance.now();
  const db = await engine();
  const engineMs = performance.now() - e0;
  // Sorting a million raw rows needs more than the server's DuckDB buffer limit.
  if (mode === "baseline") db.query("SET memory_limit = '4GB'");
  const o0 = performance.now();
  const source = await openTrace(path, { defaultZone: "UTC", warm: false });
  const meta = await source.meta();
  const openMs = performance.now() - o0;
  const app = apiRoutes(() => Promise.resolve(source));
  const names = meta.columns.map((c) => c.name);
  const last = meta.last!;
  const results: TabResult[] = [];
  for (const tab of tabs(names)) {
    for (const [range, start] of [["all", meta.first!], ["30 min", last - 30 * 60_000]] as const) {
      const url = `/api/series?columns=${tab.columns.join(",")}&start=${start}&end=${last}`;
      const times: number[] = [];
      let bytes = 0, positions = 0;
      for (let k = 0; k < (mode === "baseline" && range === "all" ? 1 : 3); k++) {
        const t = performance.now();
        const body = mode === "reduced" ? await (await app.request(url)).text() : JSON.stringify(
          await source.series({ columns: tab.columns, start, end: last, points: 1e12 }),
        );
        times.push(performance.now() - t);
        bytes = body.length;
        positions = (JSON.parse(body).t as number[]).length;
      }
      results.push({
        tab: tab.name,
        columns: tab.columns.length,
        range,
        cold: times[0]!,
        ms: Math.min(...(times.length > 1 ? times.slice(1) : times)),
        bytes,
        positions,
      });
    }
  }
  // What the background warm-up does after opening: summaries of every numeric column.
  const numeric = meta.columns.filter((c) => c.type === "int" || c.type === "double");
  const w0 = performance.now();
  for (let i = 0; i < numeric.length; i += 4) {
    const cols = numeric.slice(i, i + 4).map((c) => c.name).join(",");
    if (mode === "reduced") await app.request(`/api/series?columns=${cols}`);
  }
  const warmMs = performance.now() - w0;
  const p0 = performance.now();
  const procs = await (await app.request(`/api/processes?at=${last - 3_600_000}`)).json();
  const processesMs = performance.now() - p0;
  const x0 = performance.now();
  const csv = await (await app.request(`/api/export.csv?start=${last - 30 * 60_000}&end=${last}`))
    .text();
  const exportMs = performance.now() - x0;
  await source.close();
  return {
    engineMs,
    openMs,
    rows: meta.rows,
    columns: meta.columns.length,
    numeric: numeric.length,
    results,
    warmMs,
    processesMs,
    processes: procs.processes.length,
    exportMs,
    exportBytes: csv.length,
    peakRss: peakRssMiB(),
    now: memoryNow(),
  };
}

/** A tab's first requests after opening: "all", then "30 min" (no summaries built yet). */
async function measureCold(path: string, tabIndex: number) {
  const { apiRoutes } = await import("../../src/server/routes/api.ts");
  const { openTrace } = await import("../../src/query/source.ts");
  const source = await openTrace(path, { defaultZone: "UTC", warm: false });
  const meta = await source.meta();
  const app = apiRoutes(() => Promise.resolve(source));
  const tab = tabs(meta.columns.map((c) => c.name))[tabIndex]!;
  const last = meta.last!;
  const out: Record<string, number> = {};
  for (const [range, start] of [["all", meta.first!], ["30 min", last - 30 * 60_000]] as const) {
    const url = `/api/series?columns=${tab.columns.join(",")}&start=${start}&end=${last}`;
    const t = performance.now();
    await (await app.request(url)).text();
    out[range] = performance.now() - t;
  }
  await source.close();
  return { tab: tab.name, cold: out, peakRss: peakRssMiB() };
}

type Measured = Awaited<ReturnType<typeof measure>>;

async function child<T = Measured>(path: string, mode: string): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      import.meta.filename!,
      "--measure",
      mode,
      path,
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`serve-query ${mode} measurement failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

type Cold = Awaited<ReturnType<typeof measureCold>>;

export async function serveQueryBench() {
  const path = tracePath();
  let built = false;
  try {
    Deno.statSync(path);
  } catch {
    console.error(`serve-query: writing a ${ROWS}-row trace to ${path} (once)…`);
    buildTrace(path);
    built = true;
  }
  const size = Deno.statSync(path).size;
  const reduced = await child(path, "reduced");
  const colds: Cold[] = [];
  for (let i = 0; i < tabs([]).length; i++) colds.push(await child<Cold>(path, `cold:${i}`));
  const baseline = await child(path, "baseline");
  console.error(`serve-query: the same rows in ${Math.ceil(ROWS / GROUP)} hourly files…`);
  const segmented = await child(buildSegments(path), "reduced");
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const kb = (b: number) => (b / 1000).toFixed(1);
  const ms = (x: number) => x.toFixed(0).padStart(6);
  console.log(
    `serve queries over ${reduced.rows.toLocaleString("en")} rows × ${reduced.columns} columns ` +
      `(${mib(size)} MiB Parquet${built ? ", just written" : ""}; points=1000):`,
  );
  console.log(
    `  DuckDB-WASM start ${reduced.engineMs.toFixed(0)} ms; open + meta ${
      reduced.openMs.toFixed(0)
    } ms`,
  );
  console.log(
    "  tab           cols range  | reduced: cold   warm    KB  points | every point: ms       KB" +
      " | ratio: time  size",
  );
  const coldOf = (r: TabResult) => colds.find((c) => c.tab === r.tab)?.cold[r.range] ?? NaN;
  for (let i = 0; i < reduced.results.length; i++) {
    const r = reduced.results[i]!, b = baseline.results[i]!;
    console.log(
      `  ${r.tab.padEnd(13)} ${String(r.columns).padStart(4)} ${r.range.padEnd(6)} | ${
        ms(coldOf(r)).padStart(13)
      } ${ms(r.ms)} ${kb(r.bytes).padStart(5)} ${String(r.positions).padStart(7)} | ${
        ms(b.ms).padStart(15)
      } ${kb(b.bytes).padStart(8)} | ${(b.ms / r.ms).toFixed(1).padStart(10)}x ${
        (b.bytes / r.bytes).toFixed(0).padStart(5)
      }x`,
    );
  }
  const warm = reduced.results.map((r) => r.ms), cold = reduced.results.map(coldOf);
  console.log(
    `  slowest tab: ${Math.max(...warm).toFixed(0)} ms warm, ${
      Math.max(...cold).toFixed(0)
    } ms cold (target <= 300 ms); largest answer ${
      (Math.max(...reduced.results.map((r) => r.bytes)) / 1000).toFixed(1)
    } KB (target <= 100 KB)`,
  );
  const segWarm = Math.max(...segmented.results.map((r) => r.ms));
  console.log(
    `  the same rows as ${
      Math.ceil(ROWS / GROUP)
    } hourly files (what \`run\` writes): open + meta ${
      segmented.openMs.toFixed(0)
    } ms; slowest tab ${segWarm.toFixed(0)} ms warm (${
      (segWarm / Math.max(...warm)).toFixed(1)
    }x one file), first requests ${
      Math.max(...segmented.results.map((r) => r.cold)).toFixed(0)
    } ms; peak RSS ${segmented.peakRss.toFixed(0)} MiB`,
  );
  console.log(
    `  summaries of all ${reduced.numeric} numeric columns (the background warm-up after ` +
      `opening): ${(reduced.warmMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  processes at a sample: ${reduced.processesMs.toFixed(0)} ms (${reduced.processes} ` +
      `processes); CSV export of 30 min: ${reduced.exportMs.toFixed(0)} ms, ${
        mib(reduced.exportBytes)
      } MiB`,
  );
  console.log(
    `  peak RSS: ${reduced.peakRss.toFixed(0)} MiB (target <= 400 MB; a cold tab alone: ${
      Math.max(...colds.map((c) => c.peakRss)).toFixed(0)
    } MiB at most; at the end ${reduced.now}); sending every point: ${
      baseline.peakRss.toFixed(0)
    } MiB (${(baseline.peakRss / reduced.peakRss).toFixed(1)}x)`,
  );
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--measure");
  if (i >= 0) {
    const mode = Deno.args[i + 1]!, path = Deno.args[i + 2]!;
    const result = mode.startsWith("cold:")
      ? await measureCold(path, Number(mode.slice(5)))
      : await measure(path, mode as "reduced" | "baseline");
    console.log(JSON.stringify(result));
  } else await serveQueryBench();
}
