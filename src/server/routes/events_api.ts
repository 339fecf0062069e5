// The events and watch points as JSON (the table in live_api.ts).
import { Hono } from "hono";
import { basename } from "node:path";
import { addEvent, clearEvents, deleteEvent, importEvents, setWatch } from "../../live/actions.ts";
import type { LiveSession } from "../../live/session.ts";
import { WATCH_METRICS } from "../../live/watch.ts";
import { Refusal } from "../../schema/refusal.ts";
import type { TraceEvent } from "../../views/model_types.ts";
import { readFields } from "../request.ts";

const eventJson = (e: TraceEvent) => ({ ...e, time: new Date(e.at).toISOString() });

export function eventsApi(session: LiveSession): Hono {
  const app = new Hono();

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

  const watchJson = () => {
    const w = session.watchSettings;
    return { thresholds: w.thresholds, for: w.forSeconds, webhook: w.webhook };
  };

  app.get("/api/watch", (c) => {
    const n = session.webhook;
    return c.json({
      ...watchJson(),
      metrics: WATCH_METRICS,
      problem: session.watchProblem,
      notice: n.notice,
      delivery: { sent: n.sent, failed: n.failed, dropped: n.dropped, notices: n.notices },
    });
  });

  app.post("/api/watch", async (c) => {
    setWatch(session, await readFields(c));
    return c.json(watchJson());
  });

  return app;
}
