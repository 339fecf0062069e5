import assert from "node:assert/strict";
import { Refusal } from "../src/schema/refusal.ts";
import { Temporal } from "temporal-polyfill";
import { parquetWriteBuffer } from "hyparquet-writer";
import { columnDef, type ProcessRecord, type Row } from "../src/schema/columns.ts";
import { ParquetTrace } from "../src/store/parquet_trace.ts";
import { localZone, newTraceId, traceMetadata } from "../src/store/metadata.ts";
import { openTrace } from "../src/query/source.ts";
import { WallClock } from "../src/query/wall_clock.ts";
import { resolveZone } from "../src/query/zone.ts";
import { compact, requestWidth } from "../src/query/reduce.ts";
import type { TraceSource } from "../src/views/types.ts";
import {
  originalCsvText,
  originalParquetBytes,
  type OriginalRow,
  originalRows,
} from "./fixtures/original_files.ts";
import { readParquet, sysmon, tempDir } from "./helpers.ts";

/** Instant (epoch ms) of a naive wall time (ms) in `zone`, as Temporal reads it ("compatible"). */
function temporalInstant(wallMs: number, zone: string): number {
  const iso = new Date(wallMs).toISOString().slice(0, -1);
  return Temporal.PlainDateTime.from(iso).toZonedDateTime(zone, { disambiguation: "compatible" })
    .epochMilliseconds;
}

/** Naive wall time (ms) of an instant in `zone`. */
function wallOf(instant: number, zone: string): number {
  const p = Temporal.Instant.fromEpochMilliseconds(instant).toZonedDateTimeISO(zone)
    .toPlainDateTime();
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millisecond);
}

async function rejects(p: Promise<unknown>, kind: string, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof Refusal, `a Refusal, not ${err}`);
    assert.equal(err.kind, kind);
    assert.match(err.message, message);
    return true;
  });
}

async function withSource<T>(path: string, fn: (s: TraceSource) => Promise<T>, zone = "UTC") {
  const s = await openTrace(path, { defaultZone: zone });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

// -- files sysmon wrote ---------------------------------------------------------------------

Deno.test("openTrace() reads a Parquet trace of `sysmon run` in local time back to its instants", async () => {
  const out = `${tempDir()}/t.parquet`;
  const before = Date.now();
  const r = await sysmon(["run", "-o", out, "--sample-interval", "0.2", "--duration", "2", "-q"], {
    env: { TZ: "Europe/Berlin" },
  });
  const after = Date.now();
  assert.equal(r.code, 0, r.stderr);
  const { rows } = await readParquet(out);
  await withSource(out, async (s) => {
    const meta = await s.meta();
    assert.equal(meta.format, "parquet");
    assert.equal(meta.producer, "sysmon");
    assert.equal(meta.dataTimezone, "Europe/Berlin");
    assert.equal(meta.sourceZone, "Europe/Berlin");
    assert.equal(meta.metadata["sysmon.timezone"], "local");
    assert.equal(meta.sampleInterval, 0.2);
    assert.deepEqual(meta.notices, []);
    assert.equal(meta.rows, rows.length);
    // The stored naive Berlin wall times are the instants sampled.
    const wall0 = (rows[0]!.timestamp as Date).getTime();
    assert.equal(meta.first, temporalInstant(wall0, "Europe/Berlin"));
    assert.ok(meta.first! >= before - 1000 && meta.last! <= after, "instants of the run");
    const cpu = meta.columns.find((c) => c.name === "cpu_busy_percent");
    assert.deepEqual(cpu, { name: "cpu_busy_percent", type: "double", unit: "percent" });
    assert.deepEqual(meta.columns[0], { name: "timestamp", type: "timestamp", unit: null });
    assert.equal(meta.columns.find((c) => c.name === "sys_total")?.type, "int");

    const series = await s.series({ columns: ["sys_used", "cpu_busy_percent"], points: 1000 });
    assert.equal(series.reduced, false);
    assert.equal(series.rows, rows.length);
    assert.deepEqual(
      series.t,
      rows.map((x) => temporalInstant((x.timestamp as Date).getTime(), "Europe/Berlin")),
    );
    assert.deepEqual(series.series.sys_used, rows.map((x) => Number(x.sys_used)));
    series.series.cpu_busy_percent!.forEach((v, i) => {
      const want = rows[i]!.cpu_busy_percent as number | null;
      if (want === null) assert.equal(v, null);
      else assert.ok(Math.abs(v! - want) <= Math.abs(want) * 1e-5, `${v} vs ${want}`);
    });
  });
});

Deno.test("openTrace() reads a CSV trace of `sysmon run --utc` with its sidecar", async () => {
  const out = `${tempDir()}/t.csv`;
  const r = await sysmon([
    "run",
    "-o",
    out,
    "--utc",
    "--sample-interval",
    "0.2",
    "--duration",
    "2",
    "-q",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = Deno.readTextFileSync(out).trimEnd().split("\n");
  const header = lines[0]!.split(",");
  await withSource(out, async (s) => {
    const meta = await s.meta("America/Denver");
    assert.equal(meta.format, "csv");
    assert.equal(meta.producer, "sysmon");
    assert.equal(meta.dataTimezone, "UTC");
    assert.equal(meta.rows, lines.length - 1);
    assert.match(
      meta.notices.join("\n"),
      /records its times in UTC; the source zone America\/Denver/,
    );
    const first = lines[1]!.split(",")[0]!; // 2026-11-25 19:47:39.606123 (UTC)
    assert.equal(meta.first, Date.parse(first.replace(" ", "T").slice(0, 23) + "Z"));
    const col = header.indexOf("sys_used");
    const series = await s.series({ columns: ["sys_used"], points: 100 });
    assert.deepEqual(series.series.sys_used, lines.slice(1).map((l) => Number(l.split(",")[col])));
    if (header.includes("processes")) {
      const p = await s.processesAt(meta.last!);
      assert.equal(p.at, meta.last);
      assert.ok(p.processes.length > 0);
      assert.equal(typeof p.processes[0]!.pid, "number");
      assert.equal(typeof p.processes[0]!.name, "string");
    }
  });
});

// -- the `processes` column -------------------------------------------------------------------

function proc(pid: number, name: string, cpu: number): ProcessRecord {
  return {
    pid,
    ppid: 1,
    name,
    cmdline: `${name} --flag`,
    user: "root",
    cpu_percent: cpu,
    rss_bytes: 1024 * pid,
    threads: 2,
    read_bytes_per_sec: null,
    write_bytes_per_sec: 0,
    container: null,
    gpu_memory_bytes: null,
  };
}

Deno.test("processesAt() answers the processes of the sample nearest the time asked", async () => {
  const path = `${tempDir()}/p.parquet`;
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  const trace = new ParquetTrace({ path, utc: true });
  const rows: Row[] = [
    { timestamp: t0 * 1000, cpu_busy_percent: 1, processes: [proc(10, "a", 5)] },
    { timestamp: (t0 + 1000) * 1000, cpu_busy_percent: 2, processes: null },
    { timestamp: (t0 + 2000) * 1000, cpu_busy_percent: 3, processes: [proc(20, "b", 7)] },
    { timestamp: (t0 + 3000) * 1000, cpu_busy_percent: 4, processes: [] },
  ];
  trace.add(rows, (n) => columnDef(n)!);
  trace.fold(traceMetadata({ utc: true, sampleInterval: 1, traceId: newTraceId() }, trace.columns));
  await withSource(path, async (s) => {
    const meta = await s.meta();
    assert.equal(meta.columns.find((c) => c.name === "processes")?.type, "list");
    const a = await s.processesAt(t0 + 400);
    assert.equal(a.at, t0);
    assert.deepEqual(a.processes, [proc(10, "a", 5)]);
    // The sample at t0+1 s has no list: the nearest with one is t0+2 s.
    const b = await s.processesAt(t0 + 1100);
    assert.equal(b.at, t0 + 2000);
    assert.deepEqual(b.processes, [proc(20, "b", 7)]);
    assert.deepEqual(await s.processesAt(t0 + 99_000), { at: t0 + 3000, processes: [] });
    await assert.rejects(s.series({ columns: ["processes"], points: 10 }), /holds lists/);
  });
  // A file without the column: no processes, no error.
  const plain = `${tempDir()}/o.parquet`;
  Deno.writeFileSync(plain, originalParquetBytes(originalRows({ start: t0, n: 3 }), { tz: "utc" }));
  await withSource(plain, async (s) => {
    assert.deepEqual(await s.processesAt(t0), { at: null, processes: [] });
  });
});

// -- files of the original tool -----------------------------------------------------------------

const T0 = Date.UTC(2025, 5, 1, 8, 0, 0); // as a naive wall time: 2025-06-01 08:00:00

function originalFile(
  kind: "parquet" | "csv",
  tz: "naive" | "utc",
  rows: OriginalRow[],
): string {
  const path = `${tempDir()}/system_monitor.${kind}`;
  if (kind === "parquet") Deno.writeFileSync(path, originalParquetBytes(rows, { tz }));
  else Deno.writeTextFileSync(path, originalCsvText(rows, { tz }));
  return path;
}

const ORIGINAL = originalRows({
  start: T0,
  n: 40,
  oldContainerNames: true,
  failedRows: [5, 6],
  containerFrom: 10,
});

for (const kind of ["parquet", "csv"] as const) {
  Deno.test(`openTrace() reads the original tool's ${kind} with naive times in the chosen zone`, async () => {
    const path = originalFile(kind, "naive", ORIGINAL);
    await withSource(path, async (s) => {
      const meta = await s.meta();
      assert.equal(meta.producer, "original");
      assert.equal(meta.format, kind);
      assert.equal(meta.dataTimezone, null);
      assert.equal(meta.sourceZone, "America/Denver");
      assert.match(
        meta.notices.join("\n"),
        /carry no time zone; they are read as America\/Denver \(this server's zone\)/,
      );
      assert.equal(meta.rows, 40);
      assert.equal(meta.sampleInterval, 2);
      assert.equal(meta.host, null);
      assert.equal(meta.first, temporalInstant(T0, "America/Denver"));
      const names = meta.columns.map((c) => c.name);
      assert.ok(names.includes("docker_web_cpu_percent"), "container columns renamed");
      assert.ok(!names.some((n) => n.includes("_container_")));
      assert.deepEqual(meta.columns.find((c) => c.name === "docker_web_mem_used_bytes"), {
        name: "docker_web_mem_used_bytes",
        type: "double",
        unit: "bytes",
      });
      assert.equal(meta.columns.find((c) => c.name === "max_files_process")?.type, "string");
      assert.equal(meta.columns.find((c) => c.name === "gpu_0_temp")?.unit, "celsius");

      const utc = await s.meta("UTC");
      assert.equal(utc.sourceZone, "UTC");
      assert.equal(utc.first, T0);
      assert.match(utc.notices.join("\n"), /read as UTC\./);

      const r = await s.series({
        columns: [
          "sys_used",
          "docker_web_cpu_percent",
          "docker_web_open_files",
          "net_bytes_recv_per_sec",
        ],
        points: 1000,
        sourceZone: "UTC",
      });
      assert.equal(r.reduced, false);
      assert.deepEqual(r.t, ORIGINAL.map((x) => x.timestamp));
      // -1 (a failed collector) is a gap; so is a container not started yet.
      assert.deepEqual(r.series.sys_used!.slice(4, 8), [
        ORIGINAL[4]!.sys_used,
        null,
        null,
        ORIGINAL[7]!.sys_used,
      ]);
      assert.deepEqual(r.series.docker_web_cpu_percent!.slice(8, 12), [null, null, 14.5, 15.5]);
      assert.equal(r.series.docker_web_open_files![10], null); // -1: unknown
      assert.equal(r.series.docker_web_open_files![11], 12);
      assert.equal(r.series.net_bytes_recv_per_sec![0], null); // absent on the first row
      assert.equal(r.series.net_bytes_recv_per_sec![1], 1500);
    }, "America/Denver");
  });

  Deno.test(`openTrace() reads the original tool's ${kind} with tz-aware UTC times`, async () => {
    const path = originalFile(kind, "utc", ORIGINAL);
    await withSource(path, async (s) => {
      const meta = await s.meta("Asia/Tokyo");
      assert.equal(meta.dataTimezone, "UTC");
      assert.equal(meta.sourceZone, "UTC");
      assert.equal(meta.first, T0);
      assert.equal(meta.last, T0 + 39 * 2000);
      const r = await s.series({ columns: ["cpu_0_utilization"], points: 100 });
      assert.deepEqual(r.t, ORIGINAL.map((x) => x.timestamp));
      assert.deepEqual(
        r.series.cpu_0_utilization,
        ORIGINAL.map((x) => (x.cpu_0_utilization === -1 ? null : x.cpu_0_utilization)),
      );
    });
  });
}

Deno.test("exportCsv() writes raw rows with ISO UTC times, -1 as empty, in chunks", async () => {
  const rows = originalRows({
    start: T0,
    n: 12_345,
    interval: 1,
    failedRows: [3],
    containerFrom: 0,
  });
  const path = originalFile("parquet", "utc", rows);
  await withSource(path, async (s) => {
    let text = "";
    let chunks = 0;
    for await (const c of s.exportCsv({ columns: ["sys_used", "max_files_process"] })) {
      text += c;
      chunks++;
    }
    assert.ok(chunks >= 3, `${chunks} chunks`);
    const lines = text.trimEnd().split("\n");
    assert.equal(lines[0], "timestamp,sys_used,max_files_process");
    assert.equal(lines.length, 12_346);
    assert.equal(lines[1], `2025-06-01T08:00:00.000Z,${rows[0]!.sys_used},python3(100)`);
    assert.equal(lines[4], "2025-06-01T08:00:03.000Z,,-1");
    assert.equal(lines.at(-1)!.split(",")[0], new Date(T0 + 12_344_000).toISOString());
    // A range, and all columns by default.
    let part = "";
    for await (const c of s.exportCsv({ start: T0 + 10_000, end: T0 + 12_000 })) part += c;
    const partLines = part.trimEnd().split("\n");
    assert.equal(partLines.length, 4);
    assert.ok(partLines[0]!.startsWith("timestamp,sys_total,sys_used,"));
    assert.ok(partLines[0]!.includes("docker_web_cpu_percent"));
    await rejects(
      (async () => {
        for await (const _ of s.exportCsv({ columns: ["nope"] })) { /* header only */ }
      })(),
      "bad_input",
      /no column 'nope'/,
    );
  });
});

Deno.test("exportCsv() of naive times read in a zone east of UTC (offsets in µs overflowed INT32)", async () => {
  const rows = originalRows({ start: T0, n: 3, interval: 1, failedRows: [], containerFrom: 0 });
  const path = originalFile("parquet", "naive", rows);
  await withSource(path, async (s) => {
    let text = "";
    for await (const c of s.exportCsv({ columns: ["sys_used"] })) text += c;
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, 4);
    // 08:00 wall time in Berlin (CEST, +02:00 on 2025-06-01) is 06:00 UTC.
    assert.equal(lines[1], `2025-06-01T06:00:00.000Z,${rows[0]!.sys_used}`);
  }, "Europe/Berlin");
});

// -- time zones ------------------------------------------------------------------------------------

Deno.test("WallClock matches Temporal's 'compatible' reading for every minute of DST days", () => {
  const days: [string, number][] = [
    ["Europe/Berlin", Date.UTC(2026, 2, 29)],
    ["Europe/Berlin", Date.UTC(2026, 9, 25)],
    ["America/New_York", Date.UTC(2026, 2, 8)],
    ["America/New_York", Date.UTC(2026, 10, 1)],
    ["Australia/Lord_Howe", Date.UTC(2026, 3, 5)], // a 30-minute change
    ["Asia/Kathmandu", Date.UTC(2026, 0, 1)],
  ];
  for (const [zone, day] of days) {
    const clock = WallClock.of(zone, day, day + 86_400_000);
    for (let w = day; w < day + 86_400_000; w += 60_000) {
      assert.equal(
        clock.toInstant(w),
        temporalInstant(w, zone),
        `${zone} ${new Date(w).toISOString()}`,
      );
    }
  }
});

for (
  const [label, day] of [["spring", Date.UTC(2026, 2, 29)], [
    "autumn",
    Date.UTC(2026, 9, 25),
  ]] as const
) {
  Deno.test(`series() reads naive Europe/Berlin times across the ${label} DST change`, async () => {
    // What a tracer in Berlin records: real instants every 10 minutes, stored as wall time.
    const instants = Array.from({ length: 36 }, (_, i) => day - 3_600_000 + i * 600_000);
    const rows = originalRows({ start: 0, n: instants.length }).map((r, i) => ({
      ...r,
      timestamp: wallOf(instants[i]!, "Europe/Berlin"),
    }));
    const path = originalFile("parquet", "naive", rows);
    await withSource(path, async (s) => {
      const meta = await s.meta("Europe/Berlin");
      const r = await s.series({
        columns: ["sys_total"],
        points: 100,
        sourceZone: "Europe/Berlin",
      });
      const want = rows.map((x) => temporalInstant(x.timestamp, "Europe/Berlin"));
      // the samples (autumn: the hour the second pass leaves empty is a hole, a null, gaps.ts)
      const sampled = r.t.filter((_, i) => r.series.sys_total![i] !== null);
      assert.deepEqual(sampled.sort((a, b) => a - b), [...want].sort((a, b) => a - b));
      const repeated = meta.notices.find((n) => n.includes("occur twice"));
      if (label === "spring") {
        assert.deepEqual(r.t, instants, "every instant comes back");
        assert.equal(repeated, undefined);
      } else {
        // 02:00-03:00 happens twice; the second pass lands on the first (an hour early).
        assert.match(
          repeated!,
          /2026-10-25 02:00 to 2026-10-25 03:00 occur twice in Europe\/Berlin/,
        );
        assert.equal(want.filter((t, i) => t !== instants[i]).length, 6);
      }
      assert.equal(meta.first, Math.min(...want));
      assert.equal(meta.last, Math.max(...want));
    });
  });
}

Deno.test("openTrace() refuses an unknown zone with a clear message", async () => {
  const path = originalFile("parquet", "naive", ORIGINAL);
  await withSource(path, async (s) => {
    await rejects(s.meta("Mars/Olympus"), "bad_input", /unknown time zone 'Mars\/Olympus'/);
    const local = await s.meta("local");
    assert.equal(local.sourceZone, resolveZone(localZone()));
  });
});

// -- ranges and columns --------------------------------------------------------------------------

Deno.test("series() answers a range, lists unknown columns and refuses text columns", async () => {
  const path = originalFile("parquet", "utc", ORIGINAL);
  await withSource(path, async (s) => {
    const r = await s.series({
      columns: ["sys_total", "nope", "sys_total"],
      start: T0 + 2000,
      end: T0 + 6000,
      points: 10,
    });
    assert.deepEqual(r.t, [T0 + 2000, T0 + 4000, T0 + 6000]);
    assert.deepEqual(r.missing, ["nope"]);
    assert.deepEqual(Object.keys(r.series), ["sys_total"]);
    const empty = await s.series({
      columns: ["sys_total"],
      start: T0 - 9000,
      end: T0 - 1,
      points: 10,
    });
    assert.deepEqual([empty.rows, empty.t.length], [0, 0]);
    await rejects(
      s.series({ columns: ["sys_total"], start: T0 + 1, end: T0, points: 10 }),
      "bad_input",
      /is after end/,
    );
    await rejects(
      s.series({ columns: ["max_files_process"], points: 10 }),
      "bad_input",
      /'max_files_process' holds text/,
    );
  });
});

// -- long traces: summaries ---------------------------------------------------------------------

/** What series() must answer: min and max per bucket at its first and last sample (reduce.ts). */
function oracle(t: number[], v: number[], start: number, end: number, points: number) {
  const width = requestWidth(start, end, points);
  const out: { t: number[]; v: number[] } = { t: [], v: [] };
  let i = t.findIndex((x) => x >= start);
  while (i >= 0 && i < t.length && t[i]! <= end) {
    const b = Math.floor(t[i]! / width);
    let j = i, lo = i, hi = i;
    while (j < t.length && t[j]! <= end && Math.floor(t[j]! / width) === b) {
      if (v[j]! < v[lo]!) lo = j;
      if (v[j]! > v[hi]!) hi = j;
      j++;
    }
    out.t.push(t[i]!);
    if (j - 1 > i) {
      out.t.push(t[j - 1]!);
      out.v.push(...(lo <= hi ? [v[lo]!, v[hi]!] : [v[hi]!, v[lo]!]));
    } else out.v.push(v[i]!);
    i = j;
  }
  return out;
}

Deno.test("series() over a long trace answers from summaries exactly, also after the tracer appends", async () => {
  const path = `${tempDir()}/long.parquet`;
  const t0 = Date.UTC(2026, 0, 1);
  const value = (i: number) => (i === 43_210 ? 1e6 : ((i * 7919) % 1000) / 10);
  const trace = new ParquetTrace({ path, utc: true });
  const meta = { utc: true, sampleInterval: 1, traceId: newTraceId() };
  const append = (from: number, to: number) => {
    for (let i = from; i < to; i += 3600) {
      const rows: Row[] = [];
      for (let k = i; k < Math.min(to, i + 3600); k++) {
        rows.push({ timestamp: (t0 + k * 1000) * 1000, cpu_busy_percent: value(k) });
      }
      trace.add(rows, (n) => columnDef(n)!);
      trace.fold(traceMetadata(meta, trace.columns));
    }
  };
  append(0, 60_000);
  const check = async (s: TraceSource, n: number) => {
    const t = Array.from({ length: n }, (_, i) => t0 + i * 1000);
    const v = t.map((_, i) => value(i));
    for (
      const [start, end, points] of [
        [t[0]!, t.at(-1)!, 1000],
        [t0 + 1_234_567, t0 + 40_000_000, 300],
      ] as const
    ) {
      const r = await s.series({ columns: ["cpu_busy_percent"], start, end, points });
      const want = oracle(t, v, start, end, points);
      assert.equal(r.reduced, true);
      assert.deepEqual(r.t, want.t, `${start}..${end}`);
      assert.deepEqual(r.series.cpu_busy_percent, want.v.map(compact));
    }
  };
  const s = await openTrace(path, { defaultZone: "UTC", warm: false });
  try {
    await check(s, 60_000);
    append(60_000, 75_000); // the tracer goes on: the summary is resumed, not rebuilt
    await check(s, 75_000);
  } finally {
    await s.close();
  }
  // Summaries built in the background give the same answers; close() stops the building.
  const warmed = await openTrace(path, { defaultZone: "UTC" });
  try {
    await new Promise((r) => setTimeout(r, 50));
    await check(warmed, 75_000);
  } finally {
    await warmed.close();
  }
});

// -- bad files ---------------------------------------------------------------------------------------

Deno.test("openTrace() says what is wrong with a missing, empty, truncated or foreign file", async () => {
  const dir = tempDir();
  await rejects(openTrace(`${dir}/nope.parquet`), "not_found", /nope\.parquet does not exist/);

  Deno.writeFileSync(`${dir}/empty.parquet`, new Uint8Array(0));
  await rejects(openTrace(`${dir}/empty.parquet`), "unreadable", /is empty \(0 bytes\)/);

  const whole = originalParquetBytes(ORIGINAL, { tz: "utc" });
  Deno.writeFileSync(`${dir}/cut.parquet`, whole.subarray(0, whole.length >> 1));
  await rejects(openTrace(`${dir}/cut.parquet`), "unreadable", /truncated Parquet file/);

  const damaged = whole.slice();
  damaged.fill(0xff, whole.length - 200, whole.length - 8); // the footer, not its magic
  Deno.writeFileSync(`${dir}/damaged.parquet`, damaged);
  await rejects(openTrace(`${dir}/damaged.parquet`), "unreadable", /not a readable Parquet file/);

  const noise = new Uint8Array(5000);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + 13) % 251;
  Deno.writeFileSync(`${dir}/noise.parquet`, noise);
  await rejects(
    openTrace(`${dir}/noise.parquet`),
    "unreadable",
    /neither a Parquet file .* nor CSV/,
  );

  // A directory is read as the trace files in it: one without any is said to be empty.
  Deno.mkdirSync(`${dir}/adir`);
  await rejects(openTrace(`${dir}/adir`), "not_found", /adir names no \.parquet or \.csv file/);
});

Deno.test("openTrace() names the columns of a CSV without timestamp and a column of the wrong type", async () => {
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir}/a.csv`, "time,sys_total,cpu_0_utilization\n1,2,3\n");
  await rejects(
    openTrace(`${dir}/a.csv`),
    "unreadable",
    /No column 'timestamp' in .*a\.csv; found: time, sys_total, cpu_0_utilization/,
  );
  Deno.writeTextFileSync(
    `${dir}/b.csv`,
    "timestamp,sys_total,cpu_0_utilization\n2026-01-01 00:00:00,1,2\n2026-01-01 00:00:01,lots,3\n",
  );
  await rejects(
    openTrace(`${dir}/b.csv`),
    "unreadable",
    /column 'sys_total' of .* holds text \('lots'\)/,
  );
  Deno.writeTextFileSync(`${dir}/c.csv`, "timestamp,sys_total\nyesterday,1\n");
  await rejects(openTrace(`${dir}/c.csv`), "unreadable", /column 'timestamp' .* holds 'yesterday'/);

  // Parquet: a metric stored as text, and a timestamp stored as a plain number.
  const text = parquetWriteBuffer({
    columnData: [
      { name: "timestamp", data: [new Date(T0)], type: "TIMESTAMP" },
      { name: "sys_used", data: ["12 GB"], type: "STRING" },
    ],
  });
  Deno.writeFileSync(`${dir}/text.parquet`, new Uint8Array(text));
  await rejects(
    openTrace(`${dir}/text.parquet`),
    "unreadable",
    /column 'sys_used' .* holds text \('12 GB'\)/,
  );
  const num = parquetWriteBuffer({
    columnData: [{ name: "timestamp", data: [1n], type: "INT64" }, {
      name: "x",
      data: [1],
      type: "DOUBLE",
    }],
  });
  Deno.writeFileSync(`${dir}/num.parquet`, new Uint8Array(num));
  await rejects(
    openTrace(`${dir}/num.parquet`),
    "unreadable",
    /column 'timestamp' .* is BIGINT, not a timestamp/,
  );
  const none = parquetWriteBuffer({ columnData: [{ name: "when", data: [1], type: "DOUBLE" }] });
  Deno.writeFileSync(`${dir}/none.parquet`, new Uint8Array(none));
  await rejects(
    openTrace(`${dir}/none.parquet`),
    "unreadable",
    /No column 'timestamp' .*; found: when/,
  );
});

Deno.test("openTrace() reads a header-only CSV and a CSV with a torn last line", async () => {
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir}/h.csv`, "timestamp,sys_total\n");
  await withSource(`${dir}/h.csv`, async (s) => {
    const meta = await s.meta();
    assert.deepEqual([meta.rows, meta.first, meta.last], [0, null, null]);
    const r = await s.series({ columns: ["sys_total"], points: 10 });
    assert.deepEqual(r.t, []);
  });
  Deno.writeTextFileSync(
    `${dir}/torn.csv`,
    "timestamp,sys_total\n2026-01-01 00:00:00,1\n2026-01-01 00:00:01,2\n2026-01-01 00:0",
  );
  await withSource(`${dir}/torn.csv`, async (s) => assert.equal((await s.meta()).rows, 2));
});

// -- a file that changes ----------------------------------------------------------------------------

Deno.test("a source sees a file renamed over the open one, never the old content", async () => {
  const dir = tempDir();
  const path = `${dir}/t.parquet`;
  Deno.writeFileSync(path, originalParquetBytes(originalRows({ start: T0, n: 10 }), { tz: "utc" }));
  await withSource(path, async (s) => {
    assert.equal((await s.meta()).rows, 10);
    const next = originalRows({ start: T0, n: 25 }).map((r) => ({ ...r, sys_total: 7 }));
    Deno.writeFileSync(`${path}.tmp`, originalParquetBytes(next, { tz: "utc" }));
    Deno.renameSync(`${path}.tmp`, path);
    assert.equal((await s.meta()).rows, 25);
    const r = await s.series({ columns: ["sys_total"], points: 100 });
    assert.deepEqual(r.series.sys_total, new Array(25).fill(7));
    Deno.removeSync(path);
    await rejects(s.meta(), "not_found", /does not exist/);
    Deno.writeFileSync(
      path,
      originalParquetBytes(originalRows({ start: T0, n: 3 }), { tz: "utc" }),
    );
    assert.equal((await s.meta()).rows, 3);
  });
});

Deno.test("a file rewritten in place while read is read again; one that never settles is refused", async () => {
  const dir = tempDir();
  const path = `${dir}/t.csv`;
  const csv = (n: number) => originalCsvText(originalRows({ start: T0, n }), { tz: "utc" });
  Deno.writeTextFileSync(path, csv(5));
  let writes = 1;
  const s = await openTrace(path, {
    afterRead: () => {
      if (writes-- > 0) Deno.writeTextFileSync(path, csv(8)); // once, during the first read
    },
  });
  try {
    assert.equal((await s.meta()).rows, 8);
  } finally {
    await s.close();
  }
  let n = 9;
  await rejects(
    openTrace(path, { afterRead: () => Deno.writeTextFileSync(path, csv(n++)) }),
    "unreadable",
    /changed while it was being read, three times in a row/,
  );
});
