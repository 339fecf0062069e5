// A trace in many files (issue: one answer lists and stats its files many times). For 10 and
// 100 segments (`trace.parquet`, `trace.0001.parquet`, …, as the writer lays them out, 100
// rows each) and the directory view of them: the stat-like calls (fs stat, lstat, exists,
// Deno.stat; DuckDB-WASM's own lstat of each file it queries included) and directory listings
// one `series()` and one `meta()` make once the trace is open, and their time (median of 5).
// The baseline: the same rows in one file.
import fs from "node:fs";
import { columnDef, type Row } from "../../src/schema/columns.ts";
import { ParquetTrace } from "../../src/store/parquet_trace.ts";
import { traceMetadata } from "../../src/store/metadata.ts";
import { segmentPath } from "../../src/store/segments.ts";
import { openTrace } from "../../src/query/source.ts";
import type { TraceSource } from "../../src/views/types.ts";

const T0 = 1_795_000_000_000_000; // µs UTC
const ROWS = 100;
const row = (i: number): Row => ({ timestamp: T0 + i * 1_000_000, sys_total: i, load_1m: i / 4 });

/** Rows [from, to) of one trace at `path`, as the writer folds them (first_row included). */
function writeFile(path: string, from: number, to: number) {
  const t = new ParquetTrace({ path, utc: true });
  t.add(Array.from({ length: to - from }, (_, k) => row(from + k)), (n) => columnDef(n)!);
  t.fold({
    ...traceMetadata({ utc: true, sampleInterval: 1, traceId: "t1" }, t.columns),
    "sysmon.first_row": String(from),
  });
}

/** Counts the calls that stat a path or list a directory, while `fn` runs. */
async function counted<T>(fn: () => Promise<T>): Promise<{ stats: number; dirs: number }> {
  const n = { stats: 0, dirs: 0 };
  let depth = 0; // node's fs calls Deno's inside: one call counted once
  // deno-lint-ignore no-explicit-any
  const wrap = (obj: any, key: string, kind: "stats" | "dirs") => {
    const orig = obj[key];
    // deno-lint-ignore no-explicit-any
    obj[key] = (...a: any[]) => {
      if (depth === 0) n[kind]++;
      depth++;
      try {
        return orig.apply(obj, a);
      } finally {
        depth--;
      }
    };
    return () => (obj[key] = orig);
  };
  const stats = ["statSync", "lstatSync", "existsSync"].map((k) => wrap(fs, k, "stats"));
  const undo = [
    ...stats,
    ...["stat", "lstat"].map((k) => wrap(fs.promises, k, "stats")),
    ...["stat", "statSync", "lstat", "lstatSync"].map((k) => wrap(Deno, k, "stats")),
    wrap(fs, "readdirSync", "dirs"),
    wrap(Deno, "readDirSync", "dirs"),
  ];
  try {
    await fn();
  } finally {
    for (const u of undo) u();
  }
  return n;
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One call's counts and its median time over 5 more. */
async function measure(fn: () => Promise<unknown>) {
  await fn(); // warm: versions loaded
  const n = await counted(fn);
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { ...n, ms: median(ms) };
}

async function figures(src: TraceSource) {
  const series = await measure(() => src.series({ columns: ["load_1m"], points: 400 }));
  const meta = await measure(() => src.meta());
  await src.close();
  return { series, meta };
}

type Fig = Awaited<ReturnType<typeof figures>>;

function line(label: string, f: Fig, base: Fig) {
  const one = (k: "series" | "meta") =>
    `${k}() ${f[k].stats} stats ${f[k].dirs} dirs ${f[k].ms.toFixed(1)} ms ` +
    `(${(f[k].ms / base[k].ms).toFixed(1)}x)`;
  console.log(`${label.padEnd(22)} ${one("series")} | ${one("meta")}`);
}

export async function manyFilesBench(counts = [10, 100]) {
  console.log("many files: one answer's stat calls, listings and time (x: against one file)");
  for (const n of counts) {
    const dir = Deno.makeTempDirSync({ prefix: "sysmon-many-" });
    try {
      const base = `${dir}/trace.parquet`;
      for (let k = 0; k < n; k++) writeFile(segmentPath(base, k), k * ROWS, (k + 1) * ROWS);
      const single = `${dir}/one/whole.parquet`;
      Deno.mkdirSync(`${dir}/one`);
      writeFile(single, 0, n * ROWS);
      const baseline = await figures(await openTrace(single, { warm: false }));
      line(`one file, ${n * ROWS} rows`, baseline, baseline);
      line(`${n} segments`, await figures(await openTrace(base, { warm: false })), baseline);
      line(`${n} in a directory`, await figures(await openTrace(dir, { warm: false })), baseline);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
}

if (import.meta.main) await manyFilesBench();
