// The sidebar's Events section: add (at a time, or now), delete, clear, import a CSV, and the
// list it polls.
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { addEvent, clearEvents, deleteEvent, importEvents } from "../../live/actions.ts";
import type { LineProblem } from "../../live/events.ts";
import type { Message } from "../../views/model.ts";
import { EventList, Events } from "../../views/sidebar.tsx";
import { readFields } from "../request.ts";
import { eventsModel, field, isoIn, plural, refused, type UiContext } from "./ui_models.ts";
import type { Refusal } from "../../schema/refusal.ts";

export function uiEventsRoutes(ctx: UiContext): Hono {
  const { session } = ctx;
  const app = new Hono();

  const events = (
    c: Context,
    msg: Message | null,
    status: ContentfulStatusCode = 200,
    lines: LineProblem[] = [],
  ) => c.html(Events({ e: eventsModel(ctx, msg, lines) }), status);

  app.get("/ui/events", (c) => events(c, null));
  app.get("/ui/events/list", (c) => {
    const e = eventsModel(ctx);
    if (c.req.query("v") === e.version) return c.body(null, 204);
    return c.html(EventList({ e }));
  });

  const add = async (c: Context, now: boolean) => {
    try {
      const r = addEvent(session, await readFields(c), now);
      const at = isoIn(r.event.at, r.zone);
      const text = `Added “${r.event.name}” at ${at}.${r.warning ? ` ${r.warning}` : ""}`;
      return events(c, { kind: "ok", text });
    } catch (err) {
      const e = refused(err);
      return events(c, { kind: "error", text: e.text }, e.status);
    }
  };
  app.post("/ui/events", (c) => add(c, false));
  app.post("/ui/events/now", (c) => add(c, true));

  app.delete("/ui/events/:id", (c) => {
    try {
      const gone = deleteEvent(session, c.req.param("id"));
      return events(c, { kind: "ok", text: `Deleted “${gone.name}”.` });
    } catch (err) {
      const e = refused(err);
      return events(c, { kind: "error", text: "That event is already gone." }, e.status);
    }
  });

  app.post("/ui/events/clear", async (c) => {
    try {
      const f = await readFields(c);
      const r = clearEvents(session, field(f, "kind") || c.req.query("kind"));
      const what = r.kind === "all" ? "" : r.kind === "auto" ? "automatic " : "manual ";
      return events(c, { kind: "ok", text: `Removed ${plural(r.removed, `${what}event`)}.` });
    } catch (err) {
      const e = refused(err);
      return events(c, { kind: "error", text: e.text }, e.status);
    }
  });

  app.post("/ui/events/import", async (c) => {
    const f = await readFields(c);
    const file = f.values.file;
    if (!(file instanceof File) || file.size === 0) {
      return events(c, { kind: "error", text: "Choose a CSV file to import." }, 400);
    }
    try {
      const r = importEvents(session, await file.text(), field(f, "zone"));
      const text =
        `${file.name}: imported ${plural(r.added.length, "event")}${
          r.header ? " (header row recognised)" : ""
        }; times without a zone read in ${r.zone}.` + (r.warnings.length ? " Note:" : "");
      return events(c, { kind: "ok", text }, 200, r.warnings);
    } catch (err) {
      const e = refused(err);
      const lines = (err as Refusal).lines;
      if (lines.length === 0) return events(c, { kind: "error", text: e.text }, e.status);
      const n = lines.length;
      const text = `${file.name}: nothing imported, ${plural(n, "bad row")} ` +
        `(fix ${n === 1 ? "it" : "them"} and import again):`;
      return events(c, { kind: "error", text }, e.status, lines);
    }
  });

  return app;
}
