// GET /metrics while serve traces: the exposition of the tracer it runs (asked over the
// --control protocol, src/tracer/control.ts), the same text `sysmon run --listen` serves. Behind
// the app's security like every route: off loopback a scraper sends the token as
// `Authorization: Bearer TOKEN`. Not tracing (serve shows a file another process writes): 503.
import { Hono } from "hono";
import { CONTENT_TYPE, negotiateFormat } from "../../collect/exposition.ts";
import type { LiveSession } from "../../live/session.ts";

export function metricsRoutes(session: LiveSession): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    const format = negotiateFormat(c.req.header("accept"));
    const text = await session.tracer.metrics(format);
    if (text === null) {
      return c.text(
        "sysmon serve is not tracing this machine, so it has no metrics to serve: start " +
          "tracing from the page (or POST /api/trace/start), or scrape the `sysmon run " +
          "--listen` that writes the file\n",
        503,
      );
    }
    return c.body(text, 200, { "Content-Type": CONTENT_TYPE[format] });
  });
  return app;
}
