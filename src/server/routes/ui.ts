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
import {
  EventError,
  type LineProblem,
  parseEventsCsv,
  parseTime,
  resolveZone,
} from "../../live/events.ts";
import type { LiveSession } from "../../live/session.ts";
import { LiveError } from "../../live/tracer.ts";
import type { LiveFeed } from "../../live/feed.ts";
import { PathError } from "../../store/paths.ts";
import {
  diffSnapshots,
  findProcesses,
  snapshotOf,
  type TreeSnapshots,
} from "../../live/proc_inspect.ts";
import { httpError, limitBody, MAX_BODY_BYTES, MAX_UPLOAD_BYTES } from "../security.ts";
import { validateThresholds, WATCH_METRICS, WatchError } from "../../live/watch.ts";

export interface UiContext {
  session: LiveSession;
  feed: LiveFeed;
  /** This machine's /proc (opened on first use). */
  procFs: () => ProcFs;
  users: () => UserNames;
  snapshots: TreeSnapshots;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A refusal the user can act on (bad input, a conflict): said in the section, not thrown. */
function userError(err: unknown): { status: 409 | 422; text: string } | null {
  if (err instanceof LiveError) {
    return { status: err.status === 409 ? 409 : 422, text: err.message };
  }
  if (err instanceof PathError || err instanceof EventError || err instanceof WatchError) {
    return { status: 422, text: err.message };
  }
  return null;
}

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

// ---- request fields

type Fields = Record<string, string | File | (string | File)[]>;

async function form(c: Context): Promise<Fields> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (
    !type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data")
  ) {
    if (type === "" && (c.req.header("content-length") ?? "0") === "0") return {};
    throw httpError(415, `send a form, not '${type || "no content type"}'`);
  }
  return await c.req.parseBody({ all: true }) as Fields;
}

function field(f: Fields, key: string): string {
  const v = f[key];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === "string" ? one : "";
}

function seconds(f: Fields, key: string, label: string): number {
  const text = field(f, key).trim();
  const n = Number(text);
  if (text === "" || !Number.isFinite(n)) {
    throw new LiveError(`${label} must be a number of seconds, not '${text.slice(0, 20)}'`, 400);
  }
  return n;
}

const checked = (f: Fields, key: string) => field(f, key) !== "";

// ---- routes

export function uiRoutes(ctx: UiContext): Hono {
  const { session } = ctx;
  const app = new Hono();
  app.use("/ui/events/import", limitBody(MAX_UPLOAD_BYTES));
  app.use("/ui/*", async (c, next) => {
    if (c.req.path === "/ui/events/import") return await next();
    return await limitBody(MAX_BODY_BYTES)(c, next);
  });

  // ---- tracing

  const tracing = (c: Context, msg: Message | null, status: 200 | 409 | 422 = 200) => {
    c.header("HX-Trigger", "sysmon-refresh");
    return c.html(Tracing({ t: tracingModel(ctx, msg) }), status);
  };

  app.get("/ui/trace", (c) => c.html(Tracing({ t: tracingModel(ctx) })));
  app.get("/ui/trace/status", (c) => c.html(TraceStatus({ s: traceStatusModel(ctx) })));

  app.post("/ui/trace/start", async (c) => {
    const f = await form(c);
    try {
      const s = await session.start({
        output: field(f, "output"),
        sampleInterval: seconds(f, "sampleInterval", "Sampling"),
        writeInterval: seconds(f, "writeInterval", "The write interval"),
        enableGpu: checked(f, "enableGpu"),
        enableDocker: checked(f, "enableDocker"),
        useUtc: checked(f, "utc"),
      });
      return tracing(c, { kind: "ok", text: `Tracing into ${s.options?.output}.` });
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      const t = tracingModel(ctx, { kind: "error", text: e.text });
      // What was typed stays in the form.
      t.form = {
        output: field(f, "output"),
        sampleInterval: Number(field(f, "sampleInterval")) || t.form.sampleInterval,
        writeInterval: Number(field(f, "writeInterval")) || t.form.writeInterval,
        enableGpu: checked(f, "enableGpu"),
        enableDocker: checked(f, "enableDocker"),
        useUtc: checked(f, "utc"),
      };
      return c.html(Tracing({ t }), e.status);
    }
  });

  app.post("/ui/trace/stop", async (c) => {
    const was = session.tracer.running;
    const s = await session.stop();
    if (!was) return tracing(c, { kind: "error", text: "Not tracing." }, 409);
    return tracing(
      c,
      s.error ? { kind: "error", text: `Stopped, but the last write failed: ${s.error}` } : {
        kind: "ok",
        text: `Stopped: ${
          s.rowsWritten.toLocaleString("en-US")
        } samples written to ${s.options?.output}.`,
      },
    );
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
      const e = userError(err);
      if (!e) throw err;
      return tracing(c, { kind: "error", text: e.text }, e.status);
    }
  });

  app.post("/ui/trace/snapshot", async (c) => {
    try {
      const r = await session.tracer.snapshot();
      return c.html(
        Tracing({
          t: tracingModel(ctx, {
            kind: "ok",
            text: `Snapshot written: ${r.path} (${r.rows.toLocaleString("en-US")} samples).`,
          }),
        }),
      );
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      return c.html(Tracing({ t: tracingModel(ctx, { kind: "error", text: e.text }) }), e.status);
    }
  });

  // ---- events

  const events = (
    c: Context,
    msg: Message | null,
    status: 200 | 409 | 422 = 200,
    lines: LineProblem[] = [],
  ) => c.html(Events({ e: eventsModel(ctx, msg, lines) }), status);

  app.get("/ui/events", (c) => events(c, null));
  app.get("/ui/events/list", (c) => {
    const e = eventsModel(ctx);
    if (c.req.query("v") === e.version) return c.body(null, 204);
    return c.html(EventList({ e }));
  });

  const add = async (c: Context, now: boolean) => {
    const f = await form(c);
    try {
      const zone = resolveZone(field(f, "zone"));
      const date = field(f, "date").trim();
      const time = field(f, "time").trim();
      let at = Date.now();
      let warning: string | null = null;
      if (!now && (date !== "" || time !== "")) {
        const day = date || Temporal.Now.plainDateISO(zone).toString();
        ({ at, warning } = parseTime(`${day}T${time || "00:00"}`, zone));
      }
      const e = session.events.add({ name: field(f, "name"), at, kind: "manual" });
      return events(c, {
        kind: "ok",
        text: `Added “${e.name}” at ${isoIn(e.at, zone)}.${warning ? ` ${warning}` : ""}`,
      });
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      return events(c, { kind: "error", text: e.text }, e.status);
    }
  };
  app.post("/ui/events", (c) => add(c, false));
  app.post("/ui/events/now", (c) => add(c, true));

  app.delete("/ui/events/:id", (c) => {
    try {
      const gone = session.events.remove(c.req.param("id"));
      if (gone === null) {
        return events(c, { kind: "error", text: "That event is already gone." }, 422);
      }
      return events(c, { kind: "ok", text: `Deleted “${gone.name}”.` });
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      return events(c, { kind: "error", text: e.text }, e.status);
    }
  });

  app.post("/ui/events/clear", async (c) => {
    const f = await form(c);
    const kind = field(f, "kind") || c.req.query("kind") || "all";
    if (kind !== "all" && kind !== "auto" && kind !== "manual") {
      return events(c, { kind: "error", text: `kind must be auto, manual or all` }, 422);
    }
    try {
      const n = session.events.clear(kind === "all" ? undefined : kind);
      const what = kind === "auto" ? "automatic " : kind === "manual" ? "manual " : "";
      return events(c, { kind: "ok", text: `Removed ${n} ${what}event${n === 1 ? "" : "s"}.` });
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      return events(c, { kind: "error", text: e.text }, e.status);
    }
  });

  app.post("/ui/events/import", async (c) => {
    const f = await form(c);
    const file = Array.isArray(f.file) ? f.file[0] : f.file;
    if (!(file instanceof File) || file.size === 0) {
      return events(c, { kind: "error", text: "Choose a CSV file to import." }, 422);
    }
    try {
      const zone = resolveZone(field(f, "zone"));
      const text = await file.text();
      const r = session.events.importCsv(text, zone);
      if (r.errors.length > 0) {
        const n = r.errors.length;
        return events(
          c,
          {
            kind: "error",
            text: `${file.name}: nothing imported, ${n} bad row${n === 1 ? "" : "s"} ` +
              `(fix ${n === 1 ? "it" : "them"} and import again):`,
          },
          422,
          r.errors,
        );
      }
      const header = parseEventsCsv(text, zone).header;
      return events(
        c,
        {
          kind: "ok",
          text:
            `${file.name}: imported ${r.added.length} event${r.added.length === 1 ? "" : "s"}${
              header ? " (header row recognised)" : ""
            }; times without a zone read in ${zone}.` +
            (r.warnings.length ? " Note:" : ""),
        },
        200,
        r.warnings,
      );
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      return events(c, { kind: "error", text: e.text }, e.status);
    }
  });

  // ---- watch points

  app.get("/ui/watch", (c) => c.html(Watch({ w: watchModel(ctx) })));
  app.post("/ui/watch", async (c) => {
    const f = await form(c);
    const input: Record<string, string> = {};
    for (const m of WATCH_METRICS) input[m.key] = field(f, m.key).trim();
    try {
      session.setThresholds(validateThresholds(input));
      const on = WATCH_METRICS.filter((m) => input[m.key] !== "").map((m) =>
        `${m.title} > ${input[m.key]}`
      );
      return c.html(Watch({
        w: watchModel(ctx, {
          kind: "ok",
          text: on.length ? `Watching ${on.join(", ")}.` : "No watch points.",
        }),
      }));
    } catch (err) {
      const e = userError(err);
      if (!e) throw err;
      const w = watchModel(ctx, { kind: "error", text: e.text });
      return c.html(Watch({ w }), 422);
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
    if (!/^\d{1,10}$/.test(text.trim()) || n < 1) throw httpError(400, "pid: a process id");
    return n;
  };

  app.post("/ui/proctree/snapshot", async (c) => {
    const pid = pidOf(field(await form(c), "pid"));
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
