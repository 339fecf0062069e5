// The sidebar's forms and the Process Tree tab's requests: htmx posts here and gets the
// section back as HTML (src/views/sidebar.tsx, src/views/proctree.tsx) with what happened in it.
// They do what the JSON routes of src/live/session.ts do, on the same LiveSession.
//
//   POST /ui/trace/start|stop|reset|snapshot → #tracing     GET /ui/trace/status → #trace-status
//   POST /ui/events, /ui/events/now, /ui/events/clear, /ui/events/import, DELETE /ui/events/:id
//                                             → #events     GET /ui/events/list?v= → #events-list
//   POST /ui/watch                            → #watch
//   GET  /ui/proctree/find?q=                 → #pt-matches
//   POST /ui/proctree/snapshot (pid), GET /ui/proctree/compare?pid= → #pt-compare
//
// A refused request answers 409 or 422 with the section and the reason in it (the page's htmx
// configuration swaps those); trace actions send `HX-Trigger: sysmon-refresh` (the view
// shows another file, or goes live or not).
import { type Context, Hono } from "hono";
import { relative } from "node:path";
import { crc32hex } from "../../store/journal.ts";
import type { ProcFs } from "../../collect/proc/fs.ts";
import type { UserNames } from "../../collect/processes.ts";
import { buildProcTree } from "../../collect/proctree.ts";
import { fileSize } from "../../store/sink.ts";
import type {
  CompareModel,
  EventsModel,
  Message,
  SideModel,
  TraceStatusModel,
  TracingModel,
  WatchModel,
} from "../../views/model.ts";
import { Compare, Matches } from "../../views/proctree.tsx";
import { EventList, Events, TraceStatus, Tracing, Watch } from "../../views/sidebar.tsx";
import { parseState } from "../../views/state.ts";
import type { LineProblem } from "../../live/events.ts";
import {
  addEvent,
  clearEvents,
  deleteEvent,
  type Fields,
  importEvents,
  setWatch,
  startTracing,
  stopTracing,
} from "../../live/actions.ts";
import type { LiveSession } from "../../live/session.ts";
import type { LiveFeed } from "../../live/feed.ts";
import {
  diffSnapshots,
  findProcesses,
  snapshotOf,
  type TreeSnapshots,
} from "../../live/proc_inspect.ts";
import { WATCH_METRICS } from "../../live/watch.ts";
import { Refusal } from "../../schema/refusal.ts";
import { statusOf } from "../errors.ts";
import { readFields } from "../request.ts";
import { limitBody, MAX_BODY_BYTES, MAX_UPLOAD_BYTES } from "../security.ts";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface UiContext {
  session: LiveSession;
  feed: LiveFeed;
  /** This machine's /proc (opened on first use). */
  procFs: () => ProcFs;
  users: () => UserNames;
  snapshots: TreeSnapshots;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

// ---- models

export function traceStatusModel(ctx: UiContext): TraceStatusModel {
  const { session, feed } = ctx;
  const st = session.tracer.status();
  const ours = st.options?.output === session.file;
  return {
    state: st.state,
    running: st.running,
    file: session.file,
    samples: ours ? st.samples : 0,
    rowsWritten: ours ? st.rowsWritten : 0,
    fileBytes: st.running && ours ? st.fileBytes : fileSize(session.file),
    lastWrite: ours ? st.lastWrite : null,
    error: st.error ?? null,
    lateMs: st.running ? st.lateMs : null,
    notices: st.notices,
    unavailable: st.running ? st.unavailable : [],
    following: session.following !== null,
    followProblem: session.following?.problem ?? null,
    liveNow: feed.active(),
    sampleInterval: st.options?.sampleInterval ?? null,
  };
}

export function tracingModel(ctx: UiContext, msg: Message | null = null): TracingModel {
  const { session } = ctx;
  const o = session.tracer.status().options ?? { ...session.defaults, output: session.file };
  const rel = relative(session.dataDir, o.output);
  return {
    status: traceStatusModel(ctx),
    form: {
      output: rel.startsWith("..") ? o.output : rel,
      sampleInterval: o.sampleInterval,
      writeInterval: o.writeInterval,
      enableGpu: o.enableGpu,
      enableDocker: o.enableDocker,
      useUtc: o.useUtc,
    },
    dataDir: session.dataDir,
    message: msg,
  };
}

/** Changes whenever the events file does (or the trace, hence the file, changes). */
function eventsVersion(path: string): string {
  let stamp = "none";
  try {
    const st = Deno.statSync(path);
    stamp = `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) stamp = `error:${message(err)}`;
  }
  return crc32hex(`${path}\0${stamp}`);
}

export function eventsModel(
  ctx: UiContext,
  msg: Message | null = null,
  lines: LineProblem[] = [],
): EventsModel {
  const store = ctx.session.events;
  const events = store.list();
  return {
    path: store.path,
    events,
    problem: store.problem,
    version: eventsVersion(store.path),
    message: msg,
    lines,
  };
}

export function watchModel(ctx: UiContext, msg: Message | null = null): WatchModel {
  return {
    thresholds: ctx.session.watch.thresholds,
    metrics: WATCH_METRICS,
    problem: ctx.session.watchProblem,
    message: msg,
  };
}

export function sideModel(ctx: UiContext): SideModel {
  return { tracing: tracingModel(ctx), events: eventsModel(ctx), watch: watchModel(ctx) };
}

// ---- routes

/** The section's message for a refusal, and its status; anything else is thrown on. */
function refused(err: unknown): { status: ContentfulStatusCode; text: string } {
  if (!(err instanceof Refusal)) throw err;
  return { status: statusOf(err), text: err.message };
}

const field = (f: Fields, key: string) => {
  const v = f.values[key];
  return typeof v === "string" ? v : "";
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function uiRoutes(ctx: UiContext): Hono {
  const { session } = ctx;
  const app = new Hono();
  app.use("/ui/events/import", limitBody(MAX_UPLOAD_BYTES));
  app.use("/ui/*", async (c, next) => {
    if (c.req.path === "/ui/events/import") return await next();
    return await limitBody(MAX_BODY_BYTES)(c, next);
  });

  // ---- tracing

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
      const t = tracingModel(ctx, { kind: "error", text: e.text });
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
      return tracing(c, { kind: "error", text: "Not tracing." }, e.status);
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

  // ---- events

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

  // ---- watch points

  app.get("/ui/watch", (c) => c.html(Watch({ w: watchModel(ctx) })));
  app.post("/ui/watch", async (c) => {
    try {
      const t = setWatch(session, await readFields(c));
      const on = WATCH_METRICS.filter((m) => t[m.key] != null).map((m) =>
        `${m.title} > ${t[m.key]}`
      );
      const text = on.length ? `Watching ${on.join(", ")}.` : "No watch points.";
      return c.html(Watch({ w: watchModel(ctx, { kind: "ok", text }) }));
    } catch (err) {
      const e = refused(err);
      return c.html(Watch({ w: watchModel(ctx, { kind: "error", text: e.text }) }), e.status);
    }
  });

  // ---- process tree

  app.get("/ui/proctree/find", (c) => {
    const q = new URL(c.req.url).searchParams;
    const query = (q.get("q") ?? "").slice(0, 200);
    const { state } = parseState(q, "proctree");
    const r = findProcesses(ctx.procFs(), ctx.users(), query);
    return c.html(Matches({ m: { query, matches: r.matches, more: r.more, state } }));
  });

  const pidOf = (text: string): number => {
    const n = Number(text);
    if (!/^\d{1,10}$/.test(text.trim()) || n < 1) {
      throw new Refusal("bad_input", "pid: a process id");
    }
    return n;
  };

  app.post("/ui/proctree/snapshot", async (c) => {
    const pid = pidOf(field(await readFields(c), "pid"));
    const r = buildProcTree(ctx.procFs(), pid);
    const cm: CompareModel = { pid, at: null, diff: null, message: null };
    if ("notFound" in r) {
      cm.message = { kind: "error", text: r.notFound };
      return c.html(Compare({ c: cm }), 422);
    }
    const snap = snapshotOf(r.tree, Date.now());
    ctx.snapshots.take(snap);
    cm.at = snap.at;
    return c.html(Compare({ c: cm, count: snap.processes.length }));
  });

  app.get("/ui/proctree/compare", (c) => {
    const pid = pidOf(c.req.query("pid") ?? "");
    const before = ctx.snapshots.get(pid);
    const cm: CompareModel = { pid, at: before?.at ?? null, diff: null, message: null };
    if (!before) {
      cm.message = { kind: "error", text: `No snapshot of PID ${pid} yet: take one first.` };
      return c.html(Compare({ c: cm }), 422);
    }
    const r = buildProcTree(ctx.procFs(), pid);
    if ("notFound" in r) {
      cm.message = { kind: "error", text: r.notFound };
      return c.html(Compare({ c: cm }), 422);
    }
    cm.diff = diffSnapshots(before, snapshotOf(r.tree, Date.now()));
    return c.html(Compare({ c: cm }));
  });

  return app;
}

/** "2024-05-01 14:30:00 Europe/Berlin". */
function isoIn(at: number, zone: string): string {
  const z = Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(zone);
  return `${z.toPlainDate()} ${z.toPlainTime().toString({ smallestUnit: "second" })} ${zone}`;
}
