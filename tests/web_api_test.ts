import assert from "node:assert/strict";
import { Hono } from "hono";
import { apiRoutes as routes } from "../src/server/routes/api.ts";
import { onError } from "../src/server/errors.ts";
import { openTrace } from "../src/query/source.ts";
import type { SeriesResult, TraceMeta, TraceSource } from "../src/views/types.ts";
import { originalParquetBytes, originalRows } from "./fixtures/original_files.ts";
import { tempDir } from "./helpers.ts";

/** The API as the app mounts it: behind the app's one error handler. */
const apiRoutes = (get: Parameters<typeof routes>[0]) =>
  new Hono().onError(onError).route("/", routes(get));

const T0 = Date.UTC(2025, 5, 1, 8, 0, 0);
const ROWS = originalRows({ start: T0, n: 3000, interval: 1, failedRows: [7], containerFrom: 100 });

/** The API over a fresh file of the original tool (naive times, read in UTC by default). */
function api(rows = ROWS) {
  const path = `${tempDir()}/system_monitor.parquet`;
  Deno.writeFileSync(path, originalParquetBytes(rows, { tz: "naive" }));
  let source: Promise<TraceSource> | null = null;
  const app = apiRoutes(() => (source ??= openTrace(path, { defaultZone: "UTC" })));
  const close = async () => await (await source)?.close();
  return { app, path, close };
}

async function json<T>(res: Response): Promise<T> {
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  return await res.json() as T;
}

Deno.test("GET /api/meta answers the trace's TraceMeta", async () => {
  const { app, path, close } = api();
  try {
    const res = await app.request("/api/meta");
    assert.equal(res.status, 200);
    const meta = await json<TraceMeta>(res);
    assert.equal(meta.file, path);
    assert.equal(meta.rows, 3000);
    assert.equal(meta.first, T0);
    assert.equal(meta.producer, "original");
    const denver = await json<TraceMeta>(await app.request("/api/meta?source_tz=America/Denver"));
    assert.equal(denver.sourceZone, "America/Denver");
    assert.equal(denver.first, T0 + 6 * 3_600_000); // 08:00 MDT is 14:00Z
  } finally {
    await close();
  }
});

Deno.test("GET /api/series reduces, takes ISO or epoch times, and lists missing columns", async () => {
  const { app, close } = api();
  try {
    const all = await json<SeriesResult>(
      await app.request("/api/series?columns=sys_used,cpu_0_utilization,nope&points=100"),
    );
    assert.equal(all.rows, 3000);
    assert.equal(all.reduced, true);
    assert.ok(all.t.length <= 100 && all.t.length >= 70, `${all.t.length} positions`);
    assert.deepEqual(all.missing, ["nope"]);
    assert.equal(Math.max(...all.series.cpu_0_utilization!.map((v) => v ?? -Infinity)), 99.5);
    assert.ok(all.series.sys_used!.every((v) => v !== null), "a bucket's extremes skip a gap");
    const raw = await json<SeriesResult>(
      await app.request(`/api/series?columns=sys_used&start=${T0}&end=${T0 + 9000}`),
    );
    assert.equal(raw.reduced, false);
    assert.equal(raw.series.sys_used![7], null, "the -1 of row 7 is a gap");

    const iso = await json<SeriesResult>(
      await app.request(
        "/api/series?columns=sys_used&start=2025-06-01T08:00:10Z&end=2025-06-01T10:00:14%2B02:00",
      ),
    );
    assert.deepEqual([iso.start, iso.end, iso.rows, iso.reduced], [
      T0 + 10_000,
      T0 + 14_000,
      5,
      false,
    ]);
    const epoch = await json<SeriesResult>(
      await app.request(`/api/series?columns=sys_used&start=${T0 + 10_000}&end=${T0 + 14_000}`),
    );
    assert.deepEqual(epoch.t, iso.t);
  } finally {
    await close();
  }
});

Deno.test("GET /api/series clamps points to 10..5000", async () => {
  const { app, close } = api();
  try {
    const few = await json<SeriesResult>(
      await app.request("/api/series?columns=sys_used&points=1"),
    );
    assert.ok(few.t.length <= 10 && few.reduced);
    const many = await json<SeriesResult>(
      await app.request("/api/series?columns=sys_used&points=99999"),
    );
    assert.equal(many.reduced, false); // 3000 rows fit in 5000
    assert.equal(many.t.length, 3000);
    const dflt = await json<SeriesResult>(await app.request("/api/series?columns=sys_used"));
    assert.ok(dflt.t.length <= 1000 && dflt.t.length > 700);
  } finally {
    await close();
  }
});

Deno.test("the API answers 400 naming the parameter that is wrong", async () => {
  const { app, close } = api();
  try {
    const cases: [string, RegExp][] = [
      ["/api/series", /^columns: name at least one column/],
      ["/api/series?columns=sys_used&start=yesterday", /^start: 'yesterday' is neither epoch/],
      ["/api/series?columns=sys_used&end=2025-06-01T08:00", /^end: .* ISO 8601 time with a zone/],
      ["/api/series?columns=sys_used&points=many", /^points: 'many' is not a number/],
      [`/api/series?columns=sys_used&start=${T0 + 1}&end=${T0}`, /^start: .* is after end/],
      ["/api/series?columns=sys_used&source_tz=Mars/Base", /^source_tz: unknown time zone/],
      ["/api/series?columns=max_files_process", /'max_files_process' holds text/],
      ["/api/processes", /^at: give the time/],
      ["/api/export.csv?columns=sys_used,bogus", /no column 'bogus'/],
    ];
    for (const [url, message] of cases) {
      const res = await app.request(url);
      assert.equal(res.status, 400, url);
      const body = await json<{ error: string }>(res);
      assert.match(body.error, message, url);
      assert.deepEqual(Object.keys(body), ["error"]);
    }
  } finally {
    await close();
  }
});

Deno.test("GET /api/export.csv streams raw rows as an attachment", async () => {
  const { app, close } = api();
  try {
    const res = await app.request(
      `/api/export.csv?columns=sys_used,docker_web_cpu_percent&start=${T0 + 5000}&end=${T0 + 8000}`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.equal(
      res.headers.get("content-disposition"),
      'attachment; filename="system_monitor-2025-06-01T080005-2025-06-01T080008.csv"',
    );
    assert.equal(
      await res.text(),
      [
        "timestamp,sys_used,docker_web_cpu_percent",
        `2025-06-01T08:00:05.000Z,${ROWS[5]!.sys_used},`,
        `2025-06-01T08:00:06.000Z,${ROWS[6]!.sys_used},`,
        "2025-06-01T08:00:07.000Z,,",
        `2025-06-01T08:00:08.000Z,${ROWS[8]!.sys_used},`,
        "",
      ].join("\n"),
    );
    const whole = await app.request("/api/export.csv");
    const lines = (await whole.text()).trimEnd().split("\n");
    assert.equal(lines.length, 3001);
    assert.equal(lines[0]!.split(",").length, Object.keys(ROWS.at(-1)!).length);
  } finally {
    await close();
  }
});

Deno.test("GET /api/processes answers an empty list for a file without processes", async () => {
  const { app, close } = api();
  try {
    const res = await app.request(`/api/processes?at=${T0}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { at: null, processes: [] });
  } finally {
    await close();
  }
});

Deno.test("the API answers 404 for a missing file and 422 for an unreadable one, without a stack", async () => {
  const dir = tempDir();
  const path = `${dir}/later.parquet`;
  const app = apiRoutes(() => openTrace(path, { defaultZone: "UTC" }));
  const missing = await app.request("/api/meta");
  assert.equal(missing.status, 404);
  assert.match((await json<{ error: string }>(missing)).error, /later\.parquet does not exist/);

  Deno.writeTextFileSync(
    path,
    "timestamp,sys_used\n2026-01-01 00:00:00,x\n2026-01-01 00:00:01,1\n",
  );
  for (
    const url of [
      "/api/meta",
      "/api/series?columns=sys_used",
      "/api/export.csv",
      "/api/processes?at=0",
    ]
  ) {
    const res = await app.request(url);
    assert.equal(res.status, 422, url);
    const body = await res.text();
    assert.doesNotMatch(body, /at .*\.ts:\d+/);
    assert.match(
      JSON.parse(body).error,
      /column 'sys_used' of .*later\.parquet holds text \('x'\)/,
    );
  }

  // A source that fails unexpectedly: 500, the details only in the server's log.
  const broken = apiRoutes(() => Promise.reject(new Error("boom")));
  const res = await broken.request("/api/meta");
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), {
    error: "internal error (details are in the server's log)",
  });
});
