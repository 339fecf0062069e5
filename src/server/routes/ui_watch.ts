// The sidebar's Watch points section.
import { Hono } from "hono";
import { setWatch } from "../../live/actions.ts";
import { WATCH_METRICS } from "../../live/watch.ts";
import { Watch } from "../../views/sidebar.tsx";
import { readFields } from "../request.ts";
import { refused, type UiContext, watchModel } from "./ui_models.ts";

export function uiWatchRoutes(ctx: UiContext): Hono {
  const { session } = ctx;
  const app = new Hono();

  app.get("/ui/watch", (c) => c.html(Watch({ w: watchModel(ctx) })));
  app.post("/ui/watch", async (c) => {
    try {
      const w = setWatch(session, await readFields(c));
      const t = w.thresholds;
      const on = WATCH_METRICS.filter((m) => t[m.key] != null).map((m) =>
        `${m.title} > ${t[m.key]}`
      );
      const text = on.length
        ? `Watching ${on.join(", ")}. Each fires after ${w.forSeconds} s above and re-arms ` +
          `after ${w.forSeconds} s at or below` +
          (w.webhook ? `; firings are posted to ${w.webhook}.` : ".")
        : "No watch points.";
      return c.html(Watch({ w: watchModel(ctx, { kind: "ok", text }) }));
    } catch (err) {
      const e = refused(err);
      return c.html(Watch({ w: watchModel(ctx, { kind: "error", text: e.text }) }), e.status);
    }
  });

  return app;
}
