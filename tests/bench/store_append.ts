// Appending to a week-long trace (issue: traces that stay cheap for weeks). The trace is made
// as a user's tools would: the rows of a real `sysmon run` trace repeated by native DuckDB to
// 7 days at 1 Hz (604,800 rows), its key-value metadata copied. Then the real `sysmon run`
// appends to it for a minute with --fold-interval 20; what the process wrote to disk
// (write_bytes of /proc/PID/io) is the figure (target: under 2 MB), beside a run on a new
// trace in the same minute's conditions as the baseline.
import { DuckDBInstance } from "@duckdb/node-api";
import { listSegments } from "../../src/store/segments.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
// As `deno task start run` runs it.
const FLAGS = ["--no-code-cache", "--v8-flags=--max-semi-space-size=1,--expose-gc"];
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function sysmonRun(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...FLAGS, MAIN, "run", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** A week at 1 Hz: `real`'s rows over and over, a second apart, ending now. */
async function makeWeek(real: string, week: string) {
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const kv = (await con.runAndReadAll(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${quote(real)})`,
    )).getRowObjects();
    const meta = kv.map((r) => `${quote(String(r.k))}: ${quote(String(r.v))}`).join(", ");
    await con.run(`
      COPY (
        SELECT t.* EXCLUDE (k) REPLACE (
          date_trunc('second', current_localtimestamp()) - INTERVAL 7 DAY + to_seconds(r.i)
            AS timestamp)
        FROM range(604800) r(i)
        JOIN (SELECT *, (row_number() OVER (ORDER BY timestamp) - 1) AS k
              FROM read_parquet(${quote(real)})) t
          ON t.k = r.i % (SELECT count(*) FROM read_parquet(${quote(real)}))
        ORDER BY r.i
      ) TO ${quote(week)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {${meta}})`);
    const [n] = (await con.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM read_parquet(${quote(week)})`,
    )).getRowObjects();
    return Number(n!.n);
  } finally {
    con.closeSync();
  }
}

/** `sysmon run` on `path` for `seconds`: bytes it wrote to disk by then. */
async function appendFor(path: string, seconds: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...FLAGS, MAIN, "run", "-o", path, "--fold-interval", "20", "-q"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const io = Deno.readTextFileSync(`/proc/${child.pid}/io`);
  child.kill("SIGTERM");
  await child.status;
  return Number(/^write_bytes: (\d+)/m.exec(io)![1]);
}

export async function weekAppendBench() {
  const dir = Deno.makeTempDirSync();
  try {
    const real = `${dir}/real.parquet`;
    await sysmonRun(["-o", real, "--sample-interval", "1", "--duration", "30", "-q"]);
    const week = `${dir}/week.parquet`;
    const rows = await makeWeek(real, week);
    const before = Deno.statSync(week);
    const fresh = await appendFor(`${dir}/fresh.parquet`, 60);
    const appended = await appendFor(week, 60);
    const after = Deno.statSync(week);
    const untouched = after.ino === before.ino &&
      after.mtime?.getTime() === before.mtime?.getTime();
    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
    console.log(
      `appending to a 7-day trace (${rows} rows, ${mb(before.size)}, made by DuckDB) for 60 s ` +
        `with --fold-interval 20: ${mb(appended)} written (target < 2 MB: ` +
        `${appended < 2e6 ? "met" : "NOT MET"}); a new trace in the same minute: ${mb(fresh)} ` +
        `(ratio ${(appended / fresh).toFixed(2)}x); the week's file ` +
        `${untouched ? "untouched" : "REWRITTEN"}; files now: ${listSegments(week).length}`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) await weekAppendBench();
