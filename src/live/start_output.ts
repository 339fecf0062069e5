// What the page's Start is pre-filled with: an output `sysmon run` can trace into. The served
// file when sysmon can append to it (none there yet, or a trace sysmon wrote, with its zone),
// else a free name beside it: the original tool's files and other Parquet files are never
// appended to (store/trace_files.ts refuses them), so Start on them would fail.
import { existsSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { isMany, manyDir } from "../query/multi.ts";
import { readFooter } from "../store/parquet_trace.ts";
import { isInside } from "../store/paths.ts";
import { listSegments } from "../store/segments.ts";

interface StartOutput {
  /** Absolute path inside the data directory. */
  output: string;
  /** The zone of the trace appended to: true for UTC; null for a new file (the default). */
  utc: boolean | null;
}

/** The text of a file's first `n` bytes (not the whole file: a CSV trace can be large). */
function firstBytes(path: string, n: number): string {
  const f = Deno.openSync(path);
  try {
    const buf = new Uint8Array(n);
    const got = f.readSync(buf) ?? 0;
    return new TextDecoder().decode(buf.subarray(0, got));
  } finally {
    f.close();
  }
}

/** Whether a trace (or any file) is there already. */
function taken(path: string): boolean {
  return path.endsWith(".parquet") ? listSegments(path).length > 0 : existsSync(path);
}

/** Whether `run` appends to `path` (absent: a new trace), and the zone of what it holds. */
function appendable(path: string): { ok: boolean; utc: boolean | null } {
  if (path.endsWith(".csv")) {
    let head: string;
    try {
      head = firstBytes(path, 200);
    } catch (err) {
      return { ok: err instanceof Deno.errors.NotFound, utc: null };
    }
    // As CsvSink: an empty file, or one whose first column is `timestamp`.
    return { ok: head === "" || head.split(/[,\n]/)[0] === "timestamp", utc: null };
  }
  const first = listSegments(path)[0];
  if (!first) return { ok: true, utc: null };
  try {
    const kv = new Map(
      (readFooter(first.path).meta.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]),
    );
    if (!kv.has("sysmon.trace_id")) return { ok: false, utc: null };
    return { ok: true, utc: kv.get("sysmon.timezone") === "UTC" };
  } catch (_err) {
    return { ok: false, utc: null }; // not a readable Parquet file: run would refuse it too
  }
}

/**
 * The output Start is pre-filled with, for the trace `file` shown and the data directory: the
 * output of the last Start (`last`) while it still works, else the file, else a name beside it.
 * `fresh` (traces compared): never a trace already there (the last Start's neither), so that
 * Start adds one beside them: run 1, then run 2.
 */
export function startOutput(
  file: string,
  dataDir: string,
  last?: string,
  fresh = false,
): StartOutput {
  const many = isMany(file);
  const dir = many ? manyDir(file) : dirname(file);
  const own = !many && isInside(file, dataDir) ? file : null;
  const ext = !many && extname(file) === ".csv" ? ".csv" : ".parquet";
  const stem = many ? "trace" : basename(file, extname(file));
  const base = join(isInside(dir, dataDir) ? dir : dataDir, stem);
  const candidates = [
    ...(last && isInside(last, dataDir) ? [last] : []),
    ...(own && !fresh ? [own] : []),
    ...(many && !fresh ? [`${base}${ext}`] : []),
    `${base}_sysmon${ext}`,
    ...Array.from({ length: 98 }, (_, i) => `${base}_sysmon_${i + 2}${ext}`),
  ];
  for (const output of candidates) {
    if (fresh && taken(output)) continue; // the last Start's too: Start again is run 2
    const a = appendable(output);
    if (a.ok) return { output, utc: a.utc };
  }
  return { output: `${base}_sysmon_${Date.now()}${ext}`, utc: null };
}
