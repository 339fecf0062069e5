// The live side of the dashboard: events, watch points and the tracer, as JSON routes.
//
// LiveSession holds the state (the current trace, its events, the thresholds, the tracer, the
// follower of a file another `sysmon run` writes); eventsApi(session) is the Hono sub-app:
//
//   GET    /api/events                 → {file, events: [{id, name, at, time, kind}], problem}
//   POST   /api/events                 {name, timestamp?} | {name, date, time, zone?} → 201 {event}
//                                      (timestamp: epoch ms, as a number or digits, or ISO 8601;
//                                      `event` is taken for `name`)
//   DELETE /api/events/:id             → {deleted: event} | 404
//   DELETE /api/events?kind=auto       → {removed: n}   (kind: auto | manual; none: all)
//   POST   /api/events/clear           {kind?}  → {removed: n}   (the same, for plain forms)
//   POST   /api/events/import?zone=Z   text/csv body, or multipart `file` (+ `zone`) → {added,
//                                      events, warnings} | 422 {error, errors: [{line, message}]}
//   GET    /api/events/export.csv      → text/csv (event,timestamp,kind)
//   GET    /api/watch                  → {thresholds, metrics, problem}
//   POST   /api/watch                  {cpu?, mem?, threads?, processes?, gpu_util?, gpu_mem?} → {thresholds}
//   GET    /api/trace/status           → LiveStatus + {file, dataDir, following, followProblem}
//   POST   /api/trace/start            {output?, sampleInterval?, writeInterval?, enableGpu?,
//                                      enableDocker?, utc?} → status | 400 | 409
//   POST   /api/trace/stop             → status
//   POST   /api/trace/reset            → {archived, ...status}
//   POST   /api/trace/snapshot         → {path, rows, bytes} | 409
//   GET    /api/trace/rows             → text/event-stream: `row` events {at, row, sample?, lateMs?}
//
// Bodies are JSON or forms (urlencoded / multipart), so htmx forms post them as they are.
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { basename, dirname, resolve } from "node:path";
import {
  EventError,
  type EventKind,
  EventStore,
  eventTime,
  parseTime,
  resolveZone,
  type TraceEvent,
} from "./events.ts";
import { FileFollower, LiveError, type LiveStartOptions, LiveTracer } from "./tracer.ts";
import { confineOutputPath, PathError } from "../store/paths.ts";
import {
  errorHandler,
  httpError,
  limitBody,
  MAX_BODY_BYTES,
  MAX_UPLOAD_BYTES,
  notFoundHandler,
} from "../server/security.ts";
import {
  type Thresholds,
  validateThresholds,
  WATCH_METRICS,
  WatchError,
  WatchEvaluator,
  WatchStore,
} from "./watch.ts";

export interface LiveSessionOptions {
  /** The served trace: events live beside it; Start without an output traces into it. */
  file: string;
  /** Output paths from the page stay inside this directory (default: the file's). */
  dataDir?: string;
  /** The tracer controller (tests inject one). */
  tracer?: LiveTracer;
  /** Where thresholds are kept (default `<dataDir>/.sysmon-watch.json`). */
  watchFile?: string;
  /** How often a file written by another `sysmon run` is looked at (ms, default 2000). */
  followIntervalMs?: number;
  /** Defaults of Start (the form can override each). */
  defaults?: Partial<Omit<LiveStartOptions, "output">>;
}

/** A new sample, from the live tracer or from the followed file. */
export interface SessionRow {
  at: number;
  row: Record<string, unknown>;
  sample?: number;
  lateMs?: number;
}

/** The state behind the live routes. */
export class LiveSession {
  readonly dataDir: string;
  readonly tracer: LiveTracer;
  readonly watchStore: WatchStore;
  readonly watch: WatchEvaluator;
  /** Why the saved thresholds could not be read, or null. */
  watchProblem: string | null;
  private current: string;
  private store: EventStore;
  private follower: FileFollower | null = null;
  private readonly followIntervalMs: number;
  /** Settings of Start that the request leaves out. */
  readonly defaults: Omit<LiveStartOptions, "output">;
  private listeners = new Set<(r: SessionRow) => void>();
  private offTracer: () => void;
  /**
   * Changes whenever the rows that follow no longer continue the ones before: tracing
   * started (again), a reset, another file. Pages holding older rows start over.
   */
  generation = 0;

  constructor(opts: LiveSessionOptions) {
    this.current = resolve(opts.file);
    this.dataDir = resolve(opts.dataDir ?? dirname(this.current));
    this.tracer = opts.tracer ?? new LiveTracer();
    this.store = EventStore.forTrace(this.current);
    this.watchStore = new WatchStore(opts.watchFile ?? `${this.dataDir}/.sysmon-watch.json`);
    const saved = this.watchStore.load();
    this.watch = new WatchEvaluator(saved.thresholds);
    this.watchProblem = saved.problem;
    this.followIntervalMs = opts.followIntervalMs ?? 2000;
    this.defaults = {
      sampleInterval: 5,
      writeInterval: 10,
      enableGpu: true,
      enableDocker: true,
      useUtc: false,
      ...opts.defaults,
    };
    this.offTracer = this.tracer.subscribe((r) =>
      this.onRow({ at: r.at, row: r.row, sample: r.sample, lateMs: r.lateMs })
    );
  }

  /** The trace the dashboard shows (changes when tracing starts into another file). */
  get file(): string {
    return this.current;
  }

  get events(): EventStore {
    return this.store;
  }

  get following(): FileFollower | null {
    return this.follower;
  }

  /** Follows the current file for rows another `sysmon run` writes (when not tracing here). */
  async follow() {
    if (this.tracer.running || this.follower || !this.current.endsWith(".parquet")) return;
    this.follower = new FileFollower(this.current, { intervalMs: this.followIntervalMs });
    this.follower.subscribe((r) => this.onRow(r));
    await this.follower.start();
  }

  private unfollow() {
    this.follower?.stop();
    this.follower = null;
  }

  /** Rows as they arrive (live push); returns the unsubscribe function. */
  subscribe(fn: (r: SessionRow) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Watch points run on every new row; a crossing becomes an automatic event. */
  private onRow(r: SessionRow) {
    for (const c of this.watch.evaluate(r.row)) {
      try {
        this.store.add({ name: c.name, at: r.at, kind: "auto" });
      } catch (err) {
        console.error(`sysmon serve: cannot record '${c.name}': ${(err as Error).message}`);
      }
    }
    for (const fn of this.listeners) fn(r);
  }

  /** Switches the dashboard to another trace (its events come along). */
  setFile(path: string) {
    const p = resolve(path);
    if (p === this.current) return;
    this.unfollow();
    this.generation++;
    this.current = p;
    this.store = EventStore.forTrace(p);
  }

  /** Starts tracing into `output` (confined to the data directory; default: the current file). */
  async start(input: Partial<LiveStartOptions> = {}) {
    const output = input.output === undefined || input.output.trim() === ""
      ? this.current
      : confineOutputPath(input.output, this.dataDir);
    const o: LiveStartOptions = { ...this.defaults, ...definedOnly(input), output };
    if (!(o.sampleInterval >= 0.1)) {
      throw new LiveError(`sampling must be at least 0.1 s, not ${o.sampleInterval}`, 400);
    }
    if (!(o.writeInterval > 0)) {
      throw new LiveError(`the write interval must be more than 0 s, not ${o.writeInterval}`, 400);
    }
    if (this.tracer.running) {
      throw new LiveError(`already tracing into ${this.tracer.status().options?.output}`);
    }
    const before = this.current;
    this.unfollow();
    this.setFile(output);
    this.generation++;
    try {
      return await this.tracer.start(o);
    } catch (err) {
      this.setFile(before); // the dashboard stays on what it showed
      await this.follow();
      throw err;
    }
  }

  async stop() {
    const s = await this.tracer.stop();
    await this.follow();
    return s;
  }

  /** Reset: the trace so far is kept as `name_N.parquet` (with its events); tracing goes on. */
  async reset() {
    const r = await this.tracer.reset();
    this.generation++;
    if (r.archived !== null) this.store.moveTo(`${r.archived}.events.csv`);
    return r;
  }

  /** Saves thresholds (validated) and applies them. */
  setThresholds(t: Thresholds) {
    this.watch.setThresholds(t);
    this.watchStore.save(t);
    this.watchProblem = null;
  }

  /** Stops the tracer (writing everything) and the follower. */
  async close() {
    this.offTracer();
    this.unfollow();
    await this.tracer.stop();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------- request bodies

type Fields = Record<string, unknown>;

/** A JSON object or a form, as plain fields; 415 for anything else. */
async function readFields(c: Context): Promise<Fields> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type === "" && (c.req.header("content-length") ?? "0") === "0") return {};
  if (type.includes("application/json")) {
    let v: unknown;
    try {
      v = await c.req.json();
    } catch {
      throw httpError(400, "the body is not valid JSON");
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw httpError(400, "the body must be a JSON object");
    }
    return v as Fields;
  }
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    return await c.req.parseBody() as Fields;
  }
  throw httpError(415, `send JSON or a form, not '${type || "no content type"}'`);
}

function text(f: Fields, key: string): string | undefined {
  const v = f[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw httpError(400, `'${key}' must be text`);
  return v;
}

function number(f: Fields, key: string): number | undefined {
  const v = f[key];
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw httpError(400, `'${key}' must be a number`);
  }
  return n;
}

/** JSON booleans, and form checkboxes ("on", "true", "1"; absent from a form: false). */
function flag(f: Fields, key: string, form: boolean): boolean | undefined {
  const v = f[key];
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return ["on", "true", "1", "yes"].includes(v.toLowerCase());
  if (v === undefined && form) return false;
  if (v === undefined || v === null) return undefined;
  throw httpError(400, `'${key}' must be true or false`);
}

const eventJson = (e: TraceEvent) => ({ ...e, time: new Date(e.at).toISOString() });

/** Maps the modules' errors (messages for the user) to HTTP answers. */
function asHttp(err: unknown): never {
  if (err instanceof PathError || err instanceof EventError || err instanceof WatchError) {
    throw httpError(400, err.message);
  }
  if (err instanceof LiveError) throw httpError(err.status, err.message);
  throw err;
}

// ---------------------------------------------------------------- routes

/** The live routes (absolute paths under /api); mount with `app.route("/", eventsApi(s))`. */
export function eventsApi(session: LiveSession): Hono {
  const app = new Hono();
  app.onError(errorHandler);
  app.notFound(notFoundHandler);
  app.use("/api/events/import", limitBody(MAX_UPLOAD_BYTES));
  app.use("/api/*", async (c, next) => {
    if (c.req.path === "/api/events/import") return await next();
    return await limitBody(MAX_BODY_BYTES)(c, next);
  });

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
    const f = await readFields(c);
    try {
      const zone = resolveZone(text(f, "zone"));
      const stamp = f.timestamp;
      const date = text(f, "date");
      const time = text(f, "time");
      let at = Date.now();
      let warning: string | null = null;
      const blank = stamp === undefined || stamp === null ||
        (typeof stamp === "string" && stamp.trim() === "");
      if (!blank) {
        ({ at, warning } = eventTime(stamp, zone, "'timestamp'"));
      } else if (date !== undefined && date.trim() !== "") {
        ({ at, warning } = parseTime(`${date.trim()}T${(time ?? "").trim() || "00:00"}`, zone));
      }
      // `event` is the CSV's name for it: accepted here too.
      const event = session.events.add({ name: f.name ?? f.event, at, kind: "manual" });
      return c.json({ event: eventJson(event), warning }, 201);
    } catch (err) {
      asHttp(err);
    }
  });

  const clear = (c: Context, kindText: string | undefined) => {
    const kind = kindText === undefined || kindText === "" || kindText === "all"
      ? undefined
      : kindText;
    if (kind !== undefined && kind !== "auto" && kind !== "manual") {
      throw httpError(400, `kind must be auto, manual or all, not '${kind}'`);
    }
    try {
      return c.json({ removed: session.events.clear(kind as EventKind | undefined) });
    } catch (err) {
      asHttp(err);
    }
  };
  app.delete("/api/events", (c) => clear(c, c.req.query("kind")));
  app.post("/api/events/clear", async (c) => {
    const f = await readFields(c);
    return clear(c, text(f, "kind") ?? c.req.query("kind"));
  });

  app.post("/api/events/import", async (c) => {
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    let csv: string;
    let zoneText = c.req.query("zone");
    if (type.includes("multipart/form-data")) {
      const form = await c.req.parseBody();
      const file = form.file ?? form.csv;
      if (file instanceof File) csv = await file.text();
      else if (typeof file === "string") csv = file;
      else throw httpError(400, "the form has no 'file' field with the CSV");
      if (typeof form.zone === "string") zoneText = form.zone;
    } else if (type.includes("application/json")) {
      const f = await readFields(c);
      csv = text(f, "csv") ?? "";
      zoneText = text(f, "zone") ?? zoneText;
    } else {
      csv = await c.req.text();
    }
    try {
      const r = session.events.importCsv(csv, resolveZone(zoneText));
      if (r.errors.length > 0) {
        return c.json({
          error: `${r.errors.length} bad row${r.errors.length > 1 ? "s" : ""}; nothing imported`,
          errors: r.errors,
          warnings: r.warnings,
        }, 422);
      }
      return c.json({
        added: r.added.length,
        events: r.added.map(eventJson),
        warnings: r.warnings,
      });
    } catch (err) {
      asHttp(err);
    }
  });

  app.get("/api/events/export.csv", (c) => {
    const name = basename(session.events.path).replaceAll('"', "");
    c.header("Content-Type", "text/csv; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="${name}"`);
    return c.body(session.events.exportCsv());
  });

  app.delete("/api/events/:id", (c) => {
    try {
      const gone = session.events.remove(c.req.param("id"));
      if (gone === null) throw httpError(404, `no event ${c.req.param("id")}`);
      return c.json({ deleted: eventJson(gone) });
    } catch (err) {
      asHttp(err);
    }
  });

  // ---- watch points

  app.get("/api/watch", (c) =>
    c.json({
      thresholds: session.watch.thresholds,
      metrics: WATCH_METRICS,
      problem: session.watchProblem,
    }));

  app.post("/api/watch", async (c) => {
    const f = await readFields(c);
    try {
      session.setThresholds(validateThresholds(f));
      return c.json({ thresholds: session.watch.thresholds });
    } catch (err) {
      asHttp(err);
    }
  });

  // ---- the tracer

  const status = () => ({
    ...session.tracer.status(),
    file: session.file,
    dataDir: session.dataDir,
    following: session.following !== null,
    followProblem: session.following?.problem ?? null,
  });

  app.get("/api/trace/status", (c) => c.json(status()));

  app.post("/api/trace/start", async (c) => {
    const f = await readFields(c);
    const form = !(c.req.header("content-type") ?? "").includes("json");
    try {
      await session.start({
        output: text(f, "output"),
        sampleInterval: number(f, "sampleInterval"),
        writeInterval: number(f, "writeInterval"),
        enableGpu: flag(f, "enableGpu", form),
        enableDocker: flag(f, "enableDocker", form),
        useUtc: flag(f, "utc", form),
      });
      return c.json(status());
    } catch (err) {
      asHttp(err);
    }
  });

  app.post("/api/trace/stop", async (c) => {
    await session.stop();
    return c.json(status());
  });

  app.post("/api/trace/reset", async (c) => {
    try {
      const r = await session.reset();
      return c.json({ archived: r.archived, ...status() });
    } catch (err) {
      asHttp(err);
    }
  });

  app.post("/api/trace/snapshot", async (c) => {
    try {
      return c.json(await session.tracer.snapshot());
    } catch (err) {
      asHttp(err);
    }
  });

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
