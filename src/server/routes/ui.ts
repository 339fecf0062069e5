// The sidebar's forms and the Process Tree tab's requests: htmx posts here and gets the
// section back as HTML (src/views/sidebar.tsx, src/views/proctree.tsx) with what happened in
// it. The actions are those of the JSON routes (src/live/actions.ts), on the same LiveSession.
//
//   POST /ui/trace/start|stop|reset|snapshot → #tracing     GET /ui/trace/status → #trace-status
//   POST /ui/events, /ui/events/now, /ui/events/clear, /ui/events/import, DELETE /ui/events/:id
//                                             → #events     GET /ui/events/list?v= → #events-list
//   POST /ui/watch                            → #watch
//   GET  /ui/proctree/find?q=                 → #pt-matches
//   POST /ui/proctree/snapshot (pid), GET /ui/proctree/compare?pid= → #pt-compare
//
// A refused request answers the status of its refusal (src/server/errors.ts) with the section
// and the reason in it (the page's htmx configuration swaps those).
import { Hono } from "hono";
import { limitBody, MAX_BODY_BYTES, MAX_UPLOAD_BYTES } from "../security.ts";
import { uiEventsRoutes } from "./ui_events.ts";
import type { UiContext } from "./ui_models.ts";
import { uiProcTreeRoutes } from "./ui_proctree.ts";
import { uiTraceRoutes } from "./ui_trace.ts";
import { uiWatchRoutes } from "./ui_watch.ts";

export function uiRoutes(ctx: UiContext): Hono {
  const app = new Hono();
  app.use("/ui/events/import", limitBody(MAX_UPLOAD_BYTES));
  app.use("/ui/*", async (c, next) => {
    if (c.req.path === "/ui/events/import") return await next();
    return await limitBody(MAX_BODY_BYTES)(c, next);
  });
  app.route("/", uiTraceRoutes(ctx));
  app.route("/", uiEventsRoutes(ctx));
  app.route("/", uiWatchRoutes(ctx));
  app.route("/", uiProcTreeRoutes(ctx));
  return app;
}
