// The dashboard's HTTP app: pages and fragments (routes/pages.ts), our client code and the
// libraries the page loads (assets.ts), the data API (routes/api.ts), and the live side:
// tracing, events and watch points (routes/live_api.ts as JSON, routes/ui.ts as HTML for the
// sidebar, both calling src/live/actions.ts), new samples for live charts (src/live/feed.ts)
// and the process tree of this machine; /metrics for Prometheus (routes/metrics.ts) while it
// traces. Every route sits behind security.ts (token, Host, cross-site checks) and errors.ts
// (the one error handler).
import { Hono } from "hono";
import { ProcFs, type Roots } from "../collect/proc/fs.ts";
import type { UserNames } from "../collect/processes.ts";
import { LiveFeed, type LiveFeedOptions } from "../live/feed.ts";
import { TreeSnapshots, userNames } from "../live/proc_inspect.ts";
import { LiveSession } from "../live/session.ts";
import { openTrace } from "../query/source.ts";
import { serverZone as machineZone } from "../query/zone.ts";
import { planTab } from "../views/charts.ts";
import { DEFAULT_STATE, TABS } from "../views/state.ts";
import type { ColumnInfo, TraceSource } from "../views/types.ts";
import { assetCache, assetRoutes, warmAssets } from "./assets.ts";
import { PageModels } from "./page_model.ts";
import { apiRoutes } from "./routes/api.ts";
import { liveApi } from "./routes/live_api.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { pageRoutes } from "./routes/pages.ts";
import { uiRoutes } from "./routes/ui.ts";
import type { UiContext } from "./routes/ui_models.ts";
import { type AuthConfig, authConfig, secure } from "./security.ts";
import { fileState, SourceHolder } from "./trace_holder.ts";
import type { Comparison } from "./comparison.ts";
import { Refusal } from "../schema/refusal.ts";

export interface AppOptions {
  /** The trace to serve (it may not exist yet: the page waits for it); or give `session`. */
  file?: string;
  /** The live session (tracer, events, watch points); default: one of its own on `file`. */
  session?: LiveSession;
  /** Who may use the app; default: loopback only, no token. */
  auth?: AuthConfig;
  /** Opens a trace; default: openTrace of src/query/source.ts. */
  open?: (path: string) => Promise<TraceSource>;
  /** Auto-refresh period of the page, ms (default 10 s). */
  refreshMs?: number;
  /** x positions per chart query; default about a chart's width (the benchmark sends every row). */
  points?: number;
  /** Open the trace at once (default) rather than on the first request. */
  eager?: boolean;
  /** Mounts the data API; default: apiRoutes of src/server/routes/api.ts. */
  api?: (getSource: (trace?: string | null) => Promise<TraceSource>) => Hono;
  /** /proc and /sys of the Process Tree tab (tests); default: this machine's. */
  procRoots?: Roots;
  /** How much the live feed keeps. */
  feed?: LiveFeedOptions;
  /** Several traces side by side (serve A B …): the session's file is the first one's. */
  compare?: Comparison;
}

export type DashboardApp = Hono & {
  /** Closes the open trace (the server is shutting down), and the session when it is ours. */
  close(): Promise<void>;
  readonly session: LiveSession;
  readonly feed: LiveFeed;
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'none'";

export function createApp(opts: AppOptions): DashboardApp {
  if (!opts.session && opts.file === undefined) throw new Error("createApp: give file or session");
  const ownSession = !opts.session;
  const session = opts.session ?? new LiveSession({ file: opts.file! });
  const feed = new LiveFeed(session, opts.feed);
  const open = opts.open ?? ((path: string) => openTrace(path, { warmFirst: chartColumns }));
  let holder = new SourceHolder(session.file, open);
  /** The open trace of the file shown now (another one after Start into another file). */
  const source = (): SourceHolder => {
    if (opts.compare) return opts.compare.traces()[0]!.holder;
    if (holder.path !== session.file) {
      const old = holder;
      holder = new SourceHolder(session.file, open);
      void old.close();
    }
    return holder;
  };
  const serverZone = machineZone();
  let procFs: ProcFs | null = null;
  let users: UserNames | null = null;
  const ctx: UiContext = {
    session,
    feed,
    procFs: () => (procFs ??= new ProcFs(opts.procRoots)),
    users: () => (users ??= userNames(ctx.procFs())),
    snapshots: new TreeSnapshots(),
    comparing: () => (opts.compare?.traces().length ?? 0) > 1,
  };
  const models = new PageModels({
    session,
    feed,
    ctx,
    source,
    refreshMs: opts.refreshMs ?? 10_000,
    serverZone,
    points: opts.points,
    compare: opts.compare,
  });
  // Start the slow parts now, not on the first page: read the assets, open the trace (the
  // data engine starts, the file is read). A failure here is shown by the first page.
  const asset = assetCache();
  warmAssets(asset);
  if (opts.eager !== false) {
    fileState(session.file).then((fs) => fs.kind === "present" ? source().get() : null)
      .catch(() => {});
  }

  const app = secure(new Hono(), opts.auth ?? authConfig({ host: "127.0.0.1" }));
  app.use("*", async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  app.route("/", liveApi(session));
  app.route("/", metricsRoutes(session));
  app.route("/", uiRoutes(ctx));
  app.route("/", pageRoutes({ models, ctx, source, serverZone }));
  app.route("/", assetRoutes(asset));
  const cmp = opts.compare;
  app.route(
    "/",
    (opts.api ?? apiRoutes)((trace) => {
      if (cmp) return cmp.pick(trace).holder.get();
      if (trace && trace !== "0") {
        throw new Refusal("not_found", `No trace '${trace.slice(0, 80)}': this server shows one.`);
      }
      return source().get();
    }),
  );
  if (cmp) {
    app.get("/api/traces", async (c) => c.json(await cmp.list(c.req.query("source_tz"))));
  }

  return Object.assign(app, {
    session,
    feed,
    close: async () => {
      feed.close();
      await holder.close();
      await opts.compare?.close();
      if (ownSession) await session.close();
    },
  });
}

/** Every column the tabs chart, tab by tab: long-range summaries are built in this order. */
export function chartColumns(columns: ColumnInfo[]): string[] {
  return TABS.flatMap((t) =>
    planTab(t.name, { ...DEFAULT_STATE, tab: t.name }, { columns }).blocks.flatMap((b) => b.columns)
  );
}
