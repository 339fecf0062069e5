// The live side as JSON: events, watch points and the tracer. Each action is the one in
// src/live/actions.ts that the page's forms (routes/ui.ts) call too; a refusal is answered by
// the app's one error handler (src/server/errors.ts) with the status of its kind.
//
//   GET    /api/events                 → {file, events: [{id, name, at, time, kind}], problem}
//   POST   /api/events                 {name, timestamp?} | {name, date, time, zone?} → 201 {event}
//                                      (timestamp: epoch ms, as a number or digits, or ISO 8601;
//                                      `event` is taken for `name`)
//   DELETE /api/events/:id             → {deleted: event} | 404
//   DELETE /api/events?kind=auto       → {removed: n}   (kind: auto | manual | all; none: all)
//   POST   /api/events/clear           {kind?}  → {removed: n}   (the same, for plain forms)
//   POST   /api/events/import?zone=Z   text/csv body, or multipart `file` (+ `zone`) → {added,
//                                      events, warnings} | 422 {error, errors: [{line, message}]}
//   GET    /api/events/export.csv      → text/csv (event,timestamp,kind)
//   GET    /api/watch                  → {thresholds, metrics, problem}
//   POST   /api/watch                  {cpu?, mem?, threads?, processes?, gpu_util?, gpu_mem?} → {thresholds}
//   GET    /api/trace/status           → LiveStatus + {file, dataDir, following, followProblem}
//   POST   /api/trace/start            {output?, sampleInterval?, writeInterval?, enableGpu?,
//                                      enableDocker?, utc?} → status | 400 | 409
//   POST   /api/trace/stop             → status | 409 when not tracing
//   POST   /api/trace/reset            → {archived, ...status}
//   POST   /api/trace/snapshot         → {path, rows, bytes} | 409
//   GET    /api/trace/rows             → text/event-stream: `row` events {at, row, sample?, lateMs?}
//
// Bodies are JSON or forms (urlencoded / multipart).
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { basename } from "node:path";
import {
  addEvent,
  clearEvents,
  deleteEvent,
  importEvents,
  setWatch,
  startTracing,
  stopTracing,
} from "../../live/actions.ts";
import type { LiveSession, SessionRow } from "../../live/session.ts";
import { WATCH_METRICS } from "../../live/watch.ts";
import { Refusal } from "../../schema/refusal.ts";
import type { TraceEvent } from "../../views/model_types.ts";
import { readFields } from "../request.ts";
import { limitBody, MAX_BODY_BYTES, MAX_UPLOAD_BYTES } from "../security.ts";

const eventJson = (e: TraceEvent) => ({ ...e, time: new Date(e.at).toISOString() });

/** The live routes (absolute paths under /api); mount with `app.route("/", liveApi(s))`. */
export function liveApi(session: LiveSession): Hono {
  const app = new Hono();
  app.use("/api/events/import", limitBody(MAX_UPLOAD_BYTES));
  app.use("/api/*", async (c, next) => {
    if (c.req.path === "/api/events/import") return await next();
    return await limitBody(MAX_BODY_BYTES)(c, next);
  });

  // ---- events

  app.get("/api/events", (c) => {
    const store = session.events;
    return c.json({
      file: store.path,
      events: store.list().map(eventJson),
      problem: store.problem,
    });
  });

  app.post("/api/events", async (c) => {
    const r = addEvent(session, await readFields(c));
    return c.json({ event: eventJson(r.event), warning: r.warning }, 201);
  });

  app.delete(
    "/api/events",
    (c) => c.json({ removed: clearEvents(session, c.req.query("kind")).removed }),
  );
  app.post("/api/events/clear", async (c) => {
    const f = await readFields(c);
    const kind = f.values.kind;
    if (kind !== undefined && typeof kind !== "string") {
      throw new Refusal("bad_input", "'kind' must be text");
    }
    return c.json({ removed: clearEvents(session, kind ?? c.req.query("kind")).removed });
  });

  app.post("/api/events/import", async (c) => {
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    let csv: unknown;
    let zone: unknown = c.req.query("zone");
    if (type.includes("multipart/form-data") || type.includes("application/json")) {
      const f = await readFields(c);
      csv = f.values.file ?? f.values.csv;
      if (csv instanceof File) csv = await csv.text();
      if (f.values.zone !== undefined) zone = f.values.zone;
    } else {
      csv = await c.req.text();
    }
    if (typeof csv !== "string") {
      throw new Refusal("bad_input", "no 'file' (a form) or 'csv' (JSON) with the CSV");
    }
    if (zone !== undefined && typeof zone !== "string") {
      throw new Refusal("bad_input", "'zone' must be text");
    }
    const r = importEvents(session, csv, zone);
    return c.json({ added: r.added.length, events: r.added.map(eventJson), warnings: r.warnings });
  });

  app.get("/api/events/export.csv", (c) => {
    const name = basename(session.events.path).replaceAll('"', "");
    c.header("Content-Type", "text/csv; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="${name}"`);
    return c.body(session.events.exportCsv());
  });

  app.delete(
    "/api/events/:id",
    (c) => c.json({ deleted: eventJson(deleteEvent(session, c.req.param("id"))) }),
  );

  // ---- watch points

  app.get(
    "/api/watch",
    (c) =>
      c.json({
        thresholds: session.watch.thresholds,
        metrics: WATCH_METRICS,
        problem: session.watchProblem,
      }),
  );

  app.post(
    "/api/watch",
    async (c) => c.json({ thresholds: setWatch(session, await readFields(c)) }),
  );

  // ---- the tracer

  const status = () => ({
    ...session.tracer.status(),
    file: session.file,
    dataDir: session.dataDir,
    following: session.following !== null,
    followProblem: session.following?.problem ?? null,
  });

  app.get("/api/trace/status", (c) => c.json(status()));

  app.post("/api/trace/start", async (c) => {
    await startTracing(session, await readFields(c));
    return c.json(status());
  });

  app.post("/api/trace/stop", async (c) => {
    await stopTracing(session);
    return c.json(status());
  });

  app.post("/api/trace/reset", async (c) => {
    const r = await session.reset();
    return c.json({ archived: r.archived, ...status() });
  });

  app.post("/api/trace/snapshot", async (c) => c.json(await session.tracer.snapshot()));

  app.get("/api/trace/rows", (c) =>
    streamSSE(c, async (stream) => {
      const queue: SessionRow[] = [];
      let wake: (() => void) | null = null;
      const off = session.subscribe((r) => {
        queue.push(r);
        if (queue.length > 600) queue.shift(); // a stalled client loses the oldest
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        while (!stream.aborted) {
          const r = queue.shift();
          if (r) {
            await stream.writeSSE({ event: "row", data: JSON.stringify(r) });
            continue;
          }
          const beat = setTimeout(() => wake?.(), 15_000);
          await new Promise<void>((res) => (wake = res));
          clearTimeout(beat);
          wake = null;
          if (queue.length === 0 && !stream.aborted) await stream.write(": keep-alive\n\n");
        }
      } finally {
        off();
      }
    }));

  return app;
}
