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
//   GET    /api/watch                  → {thresholds, for, webhook, metrics, problem, notice,
//                                      delivery: {sent, failed, dropped, notices}}
//   POST   /api/watch                  {cpu?, mem?, threads?, processes?, gpu_util?, gpu_mem?,
//                                      for?, webhook?} → {thresholds, for, webhook}
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
import type { LiveSession } from "../../live/session.ts";
import { limitBody, MAX_BODY_BYTES, MAX_UPLOAD_BYTES } from "../security.ts";
import { eventsApi } from "./events_api.ts";
import { traceApi } from "./trace_api.ts";

/** The live routes (absolute paths under /api); mount with `app.route("/", liveApi(s))`. */
export function liveApi(session: LiveSession): Hono {
  const app = new Hono();
  app.use("/api/events/import", limitBody(MAX_UPLOAD_BYTES));
  app.use("/api/*", async (c, next) => {
    if (c.req.path === "/api/events/import") return await next();
    return await limitBody(MAX_BODY_BYTES)(c, next);
  });
  app.route("/", eventsApi(session));
  app.route("/", traceApi(session));
  return app;
}
