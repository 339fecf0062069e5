// The JSON (and CSV) API over a trace: what the pages' charts and tables fetch.
//
//   GET /api/meta[?source_tz=]                              TraceMeta
//   GET /api/series?columns=a,b[&start=&end=&points=&source_tz=]   SeriesResult
//   GET /api/export.csv[?columns=&start=&end=&source_tz=]   raw rows as a CSV attachment
//   GET /api/processes?at=[&source_tz=]                     processes at the nearest sample
//   GET /api/processes/list[?start=&end=&search=&order=&limit=&source_tz=]   ProcessList
//   GET /api/processes/top[?start=&end=&points=&top=&source_tz=]   top processes per metric
//   GET /api/processes/history?pid=&name=[&start=&end=&points=&source_tz=]   one process
//
// Times (start, end, at) are epoch ms or ISO 8601 with a zone; points is clamped to 10..5000
// (default 1000); source_tz is UTC, local or an IANA zone, for files whose times carry none.
// The process routes read at most the newest 21,600 samples of their range (`read` says which
// part, `clipped` when less than asked), as the Processes tab does.
// A refusal is answered by the app's one handler (src/server/errors.ts) as JSON {error}: 400
// for a bad parameter (named), 404 when the file is missing, 422 when it cannot be read;
// never a stack trace.
import { Refusal } from "../../schema/refusal.ts";
import { Hono } from "hono";
import { Temporal } from "temporal-polyfill";
import { resolveZone } from "../../query/zone.ts";
import { historyWindow, topProcessSeries } from "../../query/process_charts.ts";
import { MAX_PROCESS_SAMPLES, scanned } from "../process_model.ts";
import { compareBy, keyOf, PROCESS_METRICS } from "../../query/process_merge.ts";
import type { ProcessOrder, TraceSource } from "../../views/types.ts";

export const POINTS_DEFAULT = 1000;
export const POINTS_MIN = 10;
export const POINTS_MAX = 5000;

/** The API routes, mounted with `app.route("/", apiRoutes(getSource))`. */
export function apiRoutes(getSource: (trace?: string | null) => Promise<TraceSource>): Hono {
  const app = new Hono();

  app.get("/api/meta", async (c) => {
    const sourceZone = zoneParam(c.req.query("source_tz"));
    const source = await getSource(c.req.query("trace"));
    return c.json(await source.meta(sourceZone));
  });

  app.get("/api/series", async (c) => {
    const columns = listParam(c.req.query("columns"));
    if (columns.length === 0) {
      throw badParam("columns", "name at least one column (comma-separated)");
    }
    const range = rangeParams(c.req.query());
    const points = pointsParam(c.req.query("points"));
    const source = await getSource(c.req.query("trace"));
    return c.json(await source.series({ columns, ...range, points }));
  });

  app.get("/api/export.csv", async (c) => {
    const columns = listParam(c.req.query("columns"));
    const range = rangeParams(c.req.query());
    const source = await getSource(c.req.query("trace"));
    const file = (await source.meta(range.sourceZone)).file;
    const chunks = source.exportCsv({ columns, ...range })[Symbol.asyncIterator]();
    // The first chunk (the header) is taken before answering: a bad column or an unreadable
    // file is still a JSON error, not a broken download.
    const first = await chunks.next();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (first.done) controller.close();
        else controller.enqueue(encoder.encode(first.value));
      },
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        await chunks.return?.();
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${exportName(file, range.start, range.end)}"`,
        "cache-control": "no-store",
      },
    });
  });

  app.get("/api/processes", async (c) => {
    const at = timeParam(c.req.query("at"), "at");
    if (at === undefined) {
      throw badParam("at", "give the time of the sample (epoch ms or ISO 8601)");
    }
    const sourceZone = zoneParam(c.req.query("source_tz"));
    const source = await getSource(c.req.query("trace"));
    return c.json(await source.processesAt(at, sourceZone));
  });

  processRoutes(app, getSource);
  return app;
}

/** The routes of the Processes tab's queries (the `processes` column over a range). */
function processRoutes(app: Hono, getSource: (trace?: string | null) => Promise<TraceSource>) {
  app.get("/api/processes/list", async (c) => {
    const by = orderParam(c.req.query("order"));
    const limit = intParam(c.req.query("limit"), "limit", 100, 1, 5000);
    const source = await getSource(c.req.query("trace"));
    const { read, ...r } = await processRange(source, rangeParams(c.req.query()));
    const list = await source.processList({
      ...r,
      search: c.req.query("search"),
      orders: [{ by, limit }],
    });
    return c.json({ ...list, read, processes: [...list.processes].sort(compareBy(by)) });
  });

  app.get("/api/processes/top", async (c) => {
    const top = intParam(c.req.query("top"), "top", 10, 1, 50);
    const points = pointsParam(c.req.query("points"));
    const source = await getSource(c.req.query("trace"));
    const { read, ...r } = await processRange(source, rangeParams(c.req.query()));
    const a = await topProcessSeries(source, { ...r, top, points });
    const values = new Map(a.series.series.map((s) => [keyOf(s), s.values]));
    return c.json({
      start: a.series.start,
      end: a.series.end,
      recorded: a.recorded,
      read,
      total: a.list.total,
      rows: a.series.rows,
      t: a.series.t,
      top: Object.fromEntries(PROCESS_METRICS.map((m) => [
        m,
        a.top[m].map((p) => ({ ...p, values: values.get(keyOf(p))?.[m] ?? [] })),
      ])),
    });
  });

  app.get("/api/processes/history", async (c) => {
    const pid = intParam(c.req.query("pid"), "pid", NaN, 0, 4_294_967_295);
    if (Number.isNaN(pid)) throw badParam("pid", "give the process's PID");
    const name = c.req.query("name");
    if (name === undefined) throw badParam("name", "give the process's name (as listed)");
    const points = pointsParam(c.req.query("points"));
    const source = await getSource(c.req.query("trace"));
    const { read, ...r } = await processRange(source, rangeParams(c.req.query()));
    const key = { pid, name };
    const list = await source.processList({
      ...r,
      keys: [key],
      orders: [{ by: "last", limit: 1 }],
    });
    const p = list.processes[0];
    if (!p) {
      throw new Refusal(
        "not_found",
        !list.recorded
          ? "This trace has no per-process records."
          : read.clipped
          ? `No process '${name.slice(0, 100)}' with PID ${pid} in the newest ` +
            `${MAX_PROCESS_SAMPLES} samples of this range (read from ${
              new Date(read.start).toISOString()
            }): give start and end around it.`
          : `No process '${name.slice(0, 100)}' with PID ${pid} in this range.`,
      );
    }
    const w = historyWindow(p, { start: list.start, end: list.end });
    const s = await source.processSeries({ ...r, keys: [key], ...w, points });
    return c.json({ process: p, ...w, rows: s.rows, t: s.t, values: s.series[0]!.values });
  });
}

/**
 * The part of a range that a process query reads: at most its newest MAX_PROCESS_SAMPLES
 * samples, as the Processes tab (every process entry is decoded, and DuckDB holds the server
 * meanwhile); `read` says which part, and whether that is less than asked (`clipped`).
 */
async function processRange(
  source: TraceSource,
  r: { start?: number; end?: number; sourceZone?: string },
) {
  const meta = await source.meta(r.sourceZone);
  const asked = {
    start: Math.max(r.start ?? -Infinity, meta.first ?? 0),
    end: Math.min(r.end ?? Infinity, meta.last ?? 0),
  };
  const part = scanned(meta.sampleInterval, asked);
  return { ...r, ...part, read: { ...part, clipped: part.start > asked.start } };
}

/** start, end and source_tz of a query (checked). */
function rangeParams(q: Record<string, string>) {
  const start = timeParam(q.start, "start");
  const end = timeParam(q.end, "end");
  checkOrder(start, end);
  return { start, end, sourceZone: zoneParam(q.source_tz) };
}

const ORDERS: ProcessOrder[] = [
  ...PROCESS_METRICS.flatMap((m) => [`${m}_peak`, `${m}_sum`] as ProcessOrder[]),
  "last",
];

function orderParam(value: string | undefined): ProcessOrder {
  if (value === undefined || value === "") return "cpu_peak";
  const by = ORDERS.find((o) => o === value);
  if (!by) throw badParam("order", `'${value.slice(0, 20)}' is not one of ${ORDERS.join(", ")}`);
  return by;
}

/** A whole number in [lo, hi]; absent: `fallback`. */
function intParam(
  value: string | undefined,
  name: string,
  fallback: number,
  lo: number,
  hi: number,
): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw badParam(name, `'${value.slice(0, 20)}' is not a whole number from ${lo} to ${hi}`);
  }
  return n;
}

function badParam(name: string, why: string): Refusal {
  return new Refusal("bad_input", `${name}: ${why}`);
}

/** Comma-separated names, blanks dropped. */
function listParam(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Epoch ms, or ISO 8601 with a zone (Z or ±hh:mm); absent or empty: undefined. */
export function timeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  try {
    return Temporal.Instant.from(v).epochMilliseconds;
  } catch {
    throw badParam(
      name,
      `'${v.slice(0, 60)}' is neither epoch milliseconds nor an ISO 8601 time with a zone ` +
        `(e.g. 2026-03-29T14:05:00Z)`,
    );
  }
}

function checkOrder(start: number | undefined, end: number | undefined) {
  if (start !== undefined && end !== undefined && start > end) {
    throw badParam(
      "start",
      `${new Date(start).toISOString()} is after end (${new Date(end).toISOString()})`,
    );
  }
}

function pointsParam(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return POINTS_DEFAULT;
  const n = Number(value);
  if (!Number.isFinite(n)) throw badParam("points", `'${value.slice(0, 20)}' is not a number`);
  return Math.min(POINTS_MAX, Math.max(POINTS_MIN, Math.round(n)));
}

function zoneParam(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  try {
    return resolveZone(value);
  } catch (err) {
    throw badParam("source_tz", (err as Error).message);
  }
}

/** `<trace>-<start>-<end>.csv`, safe as a header value. */
function exportName(file: string, start?: number, end?: number): string {
  const base = (file.split("/").pop() ?? "trace").replace(/\.(parquet|csv)$/i, "");
  const stamp = (ms?: number) =>
    ms === undefined ? "" : "-" + new Date(ms).toISOString().slice(0, 19).replace(/[:]/g, "");
  return `${base}${stamp(start)}${stamp(end)}.csv`.replace(/[^A-Za-z0-9._-]/g, "_");
}
