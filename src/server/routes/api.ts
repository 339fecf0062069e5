// The JSON (and CSV) API over a trace: what the pages' charts and tables fetch.
//
//   GET /api/meta[?source_tz=]                              TraceMeta
//   GET /api/series?columns=a,b[&start=&end=&points=&source_tz=]   SeriesResult
//   GET /api/export.csv[?columns=&start=&end=&source_tz=]   raw rows as a CSV attachment
//   GET /api/processes?at=[&source_tz=]                     processes at the nearest sample
//
// Times (start, end, at) are epoch ms or ISO 8601 with a zone; points is clamped to 10..5000
// (default 1000); source_tz is UTC, local or an IANA zone, for files whose times carry none.
// A refusal is answered by the app's one handler (src/server/errors.ts) as JSON {error}: 400
// for a bad parameter (named), 404 when the file is missing, 422 when it cannot be read;
// never a stack trace.
import { Refusal } from "../../schema/refusal.ts";
import { Hono } from "hono";
import { Temporal } from "temporal-polyfill";
import { resolveZone } from "../../query/zone.ts";
import type { TraceSource } from "../../views/types.ts";

export const POINTS_DEFAULT = 1000;
export const POINTS_MIN = 10;
export const POINTS_MAX = 5000;

/** The API routes, mounted with `app.route("/", apiRoutes(getSource))`. */
export function apiRoutes(getSource: () => Promise<TraceSource>): Hono {
  const app = new Hono();

  app.get("/api/meta", async (c) => {
    const sourceZone = zoneParam(c.req.query("source_tz"));
    const source = await getSource();
    return c.json(await source.meta(sourceZone));
  });

  app.get("/api/series", async (c) => {
    const columns = listParam(c.req.query("columns"));
    if (columns.length === 0) {
      throw badParam("columns", "name at least one column (comma-separated)");
    }
    const start = timeParam(c.req.query("start"), "start");
    const end = timeParam(c.req.query("end"), "end");
    checkOrder(start, end);
    const points = pointsParam(c.req.query("points"));
    const sourceZone = zoneParam(c.req.query("source_tz"));
    const source = await getSource();
    return c.json(await source.series({ columns, start, end, points, sourceZone }));
  });

  app.get("/api/export.csv", async (c) => {
    const columns = listParam(c.req.query("columns"));
    const start = timeParam(c.req.query("start"), "start");
    const end = timeParam(c.req.query("end"), "end");
    checkOrder(start, end);
    const sourceZone = zoneParam(c.req.query("source_tz"));
    const source = await getSource();
    const file = (await source.meta(sourceZone)).file;
    const chunks = source.exportCsv({ columns, start, end, sourceZone })[Symbol.asyncIterator]();
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
        "content-disposition": `attachment; filename="${exportName(file, start, end)}"`,
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
    const source = await getSource();
    return c.json(await source.processesAt(at, sourceZone));
  });

  return app;
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
