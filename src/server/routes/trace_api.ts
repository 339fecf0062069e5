// The tracer as JSON: status, start, stop, reset, snapshot, and its rows as server-sent
// events (the table in live_api.ts).
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { startTracing, stopTracing } from "../../live/actions.ts";
import type { LiveSession, SessionRow } from "../../live/session.ts";
import { readFields } from "../request.ts";

export function traceApi(session: LiveSession): Hono {
  const app = new Hono();

  // ---- the tracer

  const status = () => {
    const st = session.tracer.status();
    const notice = session.webhook.notice; // a watch point's webhook failing, said once
    return {
      ...st,
      notices: notice ? [...st.notices, notice] : st.notices,
      file: session.file,
      dataDir: session.dataDir,
      following: session.following !== null,
      followProblem: session.following?.problem ?? null,
    };
  };

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
