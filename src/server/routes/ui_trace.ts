// The sidebar's Live tracing section: Start, Stop, Reset, Snapshot now, and its status line.
// Every action answers the section (with HX-Trigger: sysmon-refresh: the view may now show
// another file, or go live or not).
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { startTracing, stopTracing } from "../../live/actions.ts";
import type { Message } from "../../views/model.ts";
import { pageWords } from "../../views/page_words.ts";
import { TraceStatus, Tracing } from "../../views/sidebar.tsx";
import { readFields } from "../request.ts";
import { field, refused, traceStatusModel, tracingModel, type UiContext } from "./ui_models.ts";

export function uiTraceRoutes(ctx: UiContext): Hono {
  const { session } = ctx;
  const app = new Hono();

  const tracing = (c: Context, msg: Message | null, status: ContentfulStatusCode = 200) => {
    c.header("HX-Trigger", "sysmon-refresh");
    return c.html(Tracing({ t: tracingModel(ctx, msg) }), status);
  };

  app.get("/ui/trace", (c) => c.html(Tracing({ t: tracingModel(ctx) })));
  app.get("/ui/trace/status", (c) => c.html(TraceStatus({ s: traceStatusModel(ctx) })));

  app.post("/ui/trace/start", async (c) => {
    const f = await readFields(c);
    try {
      const s = await startTracing(session, f);
      return tracing(c, { kind: "ok", text: `Tracing into ${s.options?.output}.` });
    } catch (err) {
      const e = refused(err);
      const t = tracingModel(ctx, { kind: "error", text: pageWords(e.text) });
      // What was typed stays in the form.
      t.form = {
        output: field(f, "output"),
        sampleInterval: Number(field(f, "sampleInterval")) || t.form.sampleInterval,
        writeInterval: Number(field(f, "writeInterval")) || t.form.writeInterval,
        enableGpu: field(f, "enableGpu") !== "",
        enableDocker: field(f, "enableDocker") !== "",
        useUtc: field(f, "utc") !== "",
      };
      return c.html(Tracing({ t }), e.status);
    }
  });

  app.post("/ui/trace/stop", async (c) => {
    try {
      const s = await stopTracing(session);
      return tracing(
        c,
        s.error ? { kind: "error", text: `Stopped, but the last write failed: ${s.error}` } : {
          kind: "ok",
          text: `Stopped: ${
            s.rowsWritten.toLocaleString("en-US")
          } samples written to ${s.options?.output}.`,
        },
      );
    } catch (err) {
      const e = refused(err);
      const text = e.status === 409 ? "Not tracing." : e.text;
      return tracing(c, { kind: "error", text }, e.status);
    }
  });

  app.post("/ui/trace/reset", async (c) => {
    try {
      const r = await session.reset();
      return tracing(c, {
        kind: "ok",
        text: r.archived
          ? `Reset: the trace so far is kept as ${r.archived} (with its events); ` +
            (r.status.running ? `tracing goes on into an empty ${session.file}.` : "")
          : "Reset: there was nothing written yet.",
      });
    } catch (err) {
      const e = refused(err);
      return tracing(c, { kind: "error", text: e.text }, e.status);
    }
  });

  app.post("/ui/trace/snapshot", async (c) => {
    try {
      const r = await session.tracer.snapshot();
      const text = `Snapshot written: ${r.path} (${r.rows.toLocaleString("en-US")} samples).`;
      return c.html(Tracing({ t: tracingModel(ctx, { kind: "ok", text }) }));
    } catch (err) {
      const e = refused(err);
      return c.html(Tracing({ t: tracingModel(ctx, { kind: "error", text: e.text }) }), e.status);
    }
  });

  return app;
}
