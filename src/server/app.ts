// The dashboard's HTTP app: pages and fragments (src/views/), our client code (static/), the
// libraries it loads (from their npm packages), the data API (routes/api.ts), and the live
// side: tracing, events and watch points (routes/live_api.ts as JSON, routes/ui.ts as HTML
// for the sidebar, both calling src/live/actions.ts), new samples for live charts
// (src/live/feed.ts) and the process tree of this machine. Every route sits behind
// security.ts (token, Host, cross-site checks) and errors.ts (the one error handler).
//
// deno compile: the files read at run time must be embedded (deno.json's `compile` task):
//   deno compile -A --include static/ --include node_modules/uplot/dist/uPlot.esm.js \
//     --include node_modules/uplot/dist/uPlot.min.css --include node_modules/htmx.org/dist/htmx.min.js \
//     --include node_modules/@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm \
//     --include node_modules/@duckdb/duckdb-wasm/dist/duckdb-eh.wasm --output sysmon main.ts
// (src/views/ are modules, compiled in like the rest of the code).
import { Hono } from "hono";
import { html } from "hono/html";
import { Refusal } from "../schema/refusal.ts";
import { basename } from "node:path";
import { crc32hex } from "../store/journal.ts";
import { ProcFs, type Roots } from "../collect/proc/fs.ts";
import type { UserNames } from "../collect/processes.ts";
import { buildProcTree } from "../collect/proctree.ts";
import { byCommand } from "../schema/proc_tree.ts";
import {
  buildTab,
  containerLatestColumns,
  latestValues,
  planTab,
  type TabModel,
} from "../views/charts.ts";
import { Page } from "../views/layout.tsx";
import type { PageModel, ProcessesModel, ProcTreeModel } from "../views/model.ts";
import { Panel, ProcessTable } from "../views/panel.tsx";
import {
  DEFAULT_STATE,
  liveUrl,
  pageUrl,
  parseState,
  rangeMs,
  type TabName,
  TABS,
  type ViewState,
  viewWindow,
} from "../views/state.ts";
import { View } from "../views/view.tsx";
import { apiRoutes } from "./routes/api.ts";
import { LiveSession } from "../live/session.ts";
import { liveApi } from "./routes/live_api.ts";
import {
  feedColumnInfo,
  feedMeta,
  type FeedRow,
  joinResults,
  LiveFeed,
  type LiveFeedOptions,
  rowsResult,
} from "../live/feed.ts";
import { TreeSnapshots, userNames } from "../live/proc_inspect.ts";
import { type AuthConfig, authConfig, secure } from "./security.ts";
import { openTrace } from "../query/source.ts";
import { serverZone as machineZone } from "../query/zone.ts";
import type { ColumnInfo, SeriesResult, TraceMeta, TraceSource } from "../views/types.ts";
import { uiRoutes } from "./routes/ui.ts";
import { sideModel } from "./routes/ui_models.ts";

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
  api?: (getSource: () => Promise<TraceSource>) => Hono;
  /** /proc and /sys of the Process Tree tab (tests); default: this machine's. */
  procRoots?: Roots;
  /** How much the live feed keeps. */
  feed?: LiveFeedOptions;
}

export type DashboardApp = Hono & {
  /** Closes the open trace (the server is shutting down), and the session when it is ours. */
  close(): Promise<void>;
  readonly session: LiveSession;
  readonly feed: LiveFeed;
};

// ---- files served as they are

const ROOT = new URL("../../", import.meta.url);

/** Libraries the page loads, served from their npm packages. */
const VENDOR: Record<string, string> = {
  "uplot.js": "node_modules/uplot/dist/uPlot.esm.js",
  "uplot.css": "node_modules/uplot/dist/uPlot.min.css",
  "htmx.js": "node_modules/htmx.org/dist/htmx.min.js",
};

/** Our client modules, the only nested paths under static/ that are served. */
const CLIENT_MODULE = /^js\/(charts\/)?[a-z0-9_]+\.js$/;

/** The client modules in static/js/ (paths under static/), read at start to warm the cache. */
async function clientModules(dir = "js/"): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(new URL(`static/${dir}`, ROOT))) {
    const rel = `${dir}${e.name}`;
    if (e.isDirectory) found.push(...await clientModules(`${rel}/`));
    else if (CLIENT_MODULE.test(rel)) found.push(rel);
  }
  return found;
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

async function loadAsset(rel: string): Promise<Asset | null> {
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await Deno.readFile(new URL(rel, ROOT));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const etag = `"${
    Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")
  }"`;
  const ext = rel.slice(rel.lastIndexOf(".") + 1);
  return { body, type: TYPES[ext] ?? "application/octet-stream", etag };
}

/** Reads each file once, on first use. */
function assetCache() {
  const cache = new Map<string, Promise<Asset | null>>();
  return (rel: string) => {
    let p = cache.get(rel);
    if (!p) cache.set(rel, p = loadAsset(rel));
    return p;
  };
}

// ---- the trace

type FileState = { kind: "missing" } | { kind: "present"; version: string };

const statKey = (st: Deno.FileInfo) => `${st.ino ?? 0}-${st.size}-${st.mtime?.getTime() ?? 0}`;

/** Whether the trace is there, and a version that changes whenever it (or its CSV sidecar) does. */
async function fileState(path: string): Promise<FileState> {
  let main: Deno.FileInfo;
  try {
    main = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { kind: "missing" };
    // A link loop, no permission: the source says what is wrong when the page asks it.
    return { kind: "present", version: `error-${crc32hex(String(err))}` };
  }
  let sidecar = "-";
  try {
    sidecar = statKey(await Deno.stat(`${path}.meta.json`));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) sidecar = `error-${crc32hex(String(err))}`;
  }
  return { kind: "present", version: `${statKey(main)}.${sidecar}` };
}

/**
 * Keeps one open TraceSource (it reads the file again by itself when the file changes);
 * a failed open is tried again on the next request.
 */
class SourceHolder {
  private current: Promise<TraceSource> | null = null;

  constructor(
    readonly path: string,
    private readonly open: (path: string) => Promise<TraceSource>,
  ) {}

  get(): Promise<TraceSource> {
    if (!this.current) {
      const source = this.open(this.path);
      this.current = source;
      source.catch(() => {
        if (this.current === source) this.current = null;
      });
    }
    return this.current;
  }

  async close(): Promise<void> {
    const source = this.current;
    this.current = null;
    if (!source) return;
    try {
      await (await source).close();
    } catch {
      // a source that failed to open has nothing to close
    }
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function sourceZone(s: ViewState, serverZone: string): string | undefined {
  return s.src === "auto" ? undefined : s.src === "UTC" ? "UTC" : serverZone;
}

const emptyResult = (start: number, end: number): SeriesResult => ({
  start,
  end,
  rows: 0,
  reduced: false,
  t: [],
  series: {},
  missing: [],
});

/** Identifies what a panel's data holds (charts, their series, blocks): live answers must match. */
export function tabSig(tab: TabModel): string {
  return crc32hex(JSON.stringify([
    tab.blocks.length,
    tab.charts.map((
      c,
    ) => [c.id, c.kind, c.block, c.hidden ? 1 : 0, c.series.map((x) => [x.label, x.i])]),
    tab.cards.map((c) => [c.id, c.spark]),
  ]));
}

// ---- the app

export function createApp(opts: AppOptions): DashboardApp {
  if (!opts.session && opts.file === undefined) throw new Error("createApp: give file or session");
  const ownSession = !opts.session;
  const session = opts.session ?? new LiveSession({ file: opts.file! });
  const feed = new LiveFeed(session, opts.feed);
  const auth = opts.auth ?? authConfig({ host: "127.0.0.1" });
  const open = opts.open ?? ((path: string) => openTrace(path, { warmFirst: chartColumns }));
  const api = opts.api ?? apiRoutes;
  let holder = new SourceHolder(session.file, open);
  /** The open trace of the file shown now (another one after Start into another file). */
  const current = (): SourceHolder => {
    if (holder.path !== session.file) {
      const old = holder;
      holder = new SourceHolder(session.file, open);
      void old.close();
    }
    return holder;
  };
  const refreshMs = opts.refreshMs ?? 10_000;
  const serverZone = machineZone();
  const asset = assetCache();
  let procFs: ProcFs | null = null;
  let users: UserNames | null = null;
  const ctx = {
    session,
    feed,
    procFs: () => (procFs ??= new ProcFs(opts.procRoots)),
    users: () => (users ??= userNames(ctx.procFs())),
    snapshots: new TreeSnapshots(),
  };
  // Every column a page of this file has seen (the file's and the live rows'): live answers
  // are planned over the same columns as the page they extend.
  const known = { file: "", columns: new Set<string>() };
  const knownColumns = (file: string) => {
    if (known.file !== file) {
      known.file = file;
      known.columns = new Set();
    }
    return known.columns;
  };
  // Start the slow parts now, not on the first page: read the assets, open the trace (the
  // data engine starts, the file is read). A failure here is shown by the first page.
  for (const rel of [...Object.values(VENDOR), "static/app.css", "static/theme.js"]) {
    asset(rel).catch(() => {}); // served (or 404) by the route, which awaits the same promise
  }
  clientModules().then((mods) => mods.forEach((m) => asset(`static/${m}`).catch(() => {})))
    .catch(() => {}); // no static/js/: the page's script is a 404, which the page shows
  if (opts.eager !== false) {
    fileState(session.file).then((fs) => fs.kind === "present" ? current().get() : null).catch(
      () => {},
    );
  }
  const zones = (Intl as unknown as { supportedValuesOf(k: string): string[] })
    .supportedValuesOf("timeZone");

  /** Whether a view appends new samples: Live, or Auto while samples come in. */
  const liveFor = (s: ViewState) =>
    s.tab !== "proctree" && (s.mode === "live" || (s.mode === "auto" && feed.active()));

  /** Everything a view of `tab` shows. */
  async function model(q: URLSearchParams, tab: string | undefined): Promise<PageModel> {
    const { state, errors } = parseState(q, tab);
    const file = session.file;
    const fileBase = basename(file);
    if (!state.file) state.file = fileBase;
    const m: PageModel = {
      state,
      errors,
      file,
      meta: null,
      problem: null,
      window: null,
      tab: null,
      processes: null,
      version: "missing",
      refreshMs,
      serverZone,
      fileNote: state.file !== fileBase
        ? `This link was made for ${state.file}; this server shows ${fileBase}.`
        : null,
      live: null,
      modeNote: null,
      proctree: null,
      side: null,
    };
    if (state.tab === "proctree") {
      m.proctree = proctreeModel(state.pid ?? 1);
      return m;
    }
    const live = liveFor(state);
    if (state.mode === "live" && !feed.active()) {
      m.modeNote = "Live: nothing is being traced here and the file is not growing; new " +
        "samples appear as soon as tracing starts (Start, in the sidebar).";
    }
    const fs = await fileState(file);
    const rows = live ? feed.rows() : [];
    if (fs.kind === "missing" && rows.length === 0) {
      m.problem = { kind: "waiting", message: `${file} does not exist yet.` };
      return m;
    }
    m.version = fs.kind === "present" ? fs.version : "missing";
    const zone = sourceZone(state, serverZone);
    try {
      let src: TraceSource | null = null;
      let meta: TraceMeta;
      if (fs.kind === "present") {
        src = await current().get();
        meta = await src.meta(zone);
      } else meta = feedMeta(file, [], []);
      const fileLast = src ? meta.last : null;
      const columns = knownColumns(file);
      for (const c of meta.columns) columns.add(c.name);
      let extra: FeedRow[] = [];
      if (live) {
        extra = fileLast === null ? rows : feed.after(fileLast);
        for (const c of feed.columns()) columns.add(c);
        meta = withRows(meta, extra, columns);
        if (!src) {
          meta.notices = [
            ...meta.notices,
            `${basename(file)} is not written yet: these are the tracer's samples in memory.`,
          ];
        }
      }
      m.meta = meta;
      if (meta.first === null || meta.last === null || meta.rows === 0) return m;
      const w = viewWindow(state, meta.first, meta.last);
      m.window = w;
      /** A block's answer: the file (reduced), then the live rows after it. */
      const answer = async (cols: string[], points: number): Promise<SeriesResult> => {
        const fromFile = src && (fileLast === null || w.start <= fileLast)
          ? await query(src, cols, w.start, Math.min(w.end, fileLast ?? w.end), points, zone)
          : emptyResult(w.start, w.end);
        if (!live) return fromFile;
        return joinResults(
          fromFile,
          rowsResult(extra.filter((r) => r.t >= w.start && r.t <= w.end), cols),
        );
      };
      let latest: Map<string, number | null> | undefined;
      if (state.tab === "containers") {
        const newest = live ? feed.newest() : null;
        latest = newest ? new Map(Object.entries(newest.values)) : src
          ? latestValues(
            await query(
              src,
              containerLatestColumns(meta.columns),
              w.end - 60_000,
              w.end,
              1000,
              zone,
            ),
          )
          : new Map();
      }
      const plan = planTab(state.tab, state, {
        columns: meta.columns,
        latest,
        points: opts.points,
      });
      const results = await Promise.all(plan.blocks.map((b) => answer(b.columns, b.points)));
      m.tab = buildTab(plan, results, meta);
      const events = m.tab.cards.find((c) => c.id === "events");
      if (events) events.value = session.events.list().length.toLocaleString("en-US");
      if (state.tab === "cpu") {
        m.processes = src
          ? await processes(src, state.at ?? Math.min(w.end, fileLast ?? w.end), zone)
          : { at: null, asked: w.end, list: [], total: 0, error: "Not in the file yet." };
      }
      if (live) {
        m.live = {
          url: liveUrl(state),
          since: meta.last,
          epoch: feed.epoch,
          sig: tabSig(m.tab),
          rangeMs: Number.isFinite(rangeMs(state)) ? rangeMs(state) : 0,
        };
      }
    } catch (err) {
      // The file went away between the stat and the read: wait for it again.
      const gone = (err as { kind?: string }).kind === "missing";
      m.problem = { kind: gone ? "waiting" : "error", message: message(err) };
    }
    return m;
  }

  /** The file's meta extended by the live rows after it (and the columns they bring). */
  function withRows(meta: TraceMeta, extra: FeedRow[], columns: Set<string>): TraceMeta {
    const have = new Set(meta.columns.map((c) => c.name));
    const out: TraceMeta = {
      ...meta,
      columns: [...meta.columns, ...feedColumnInfo([...columns].filter((c) => !have.has(c)))],
    };
    if (extra.length > 0) {
      out.rows = meta.rows + extra.length;
      out.first = meta.first ?? extra[0]!.t;
      out.last = extra.at(-1)!.t;
    }
    return out;
  }

  function proctreeModel(pid: number): ProcTreeModel {
    const snap = ctx.snapshots.get(pid);
    let result: ProcTreeModel["result"];
    try {
      const r = buildProcTree(ctx.procFs(), pid);
      result = "tree" in r ? { tree: r.tree, summary: byCommand(r.tree) } : r;
    } catch (err) {
      result = { notFound: `cannot read the processes: ${message(err)}` };
    }
    return {
      pid,
      result,
      snapshot: snap ? { at: snap.at, count: snap.processes.length } : null,
    };
  }

  async function query(
    src: TraceSource,
    columns: string[],
    start: number,
    end: number,
    points: number,
    zone: string | undefined,
  ): Promise<SeriesResult> {
    if (columns.length === 0) return emptyResult(start, end);
    return await src.series({ columns, start, end, points, sourceZone: zone });
  }

  async function processes(src: TraceSource, at: number, zone: string | undefined) {
    const p: ProcessesModel = { at: null, asked: at, list: [], total: 0, error: null };
    try {
      const r = await src.processesAt(at, zone);
      p.at = r.at;
      p.list = r.processes;
      p.total = r.processes.length;
    } catch (err) {
      p.error = message(err);
    }
    return p;
  }

  /** New samples of a live view: what `since` lacks, as blocks shaped like the panel's. */
  function liveAnswer(q: URLSearchParams, tab: TabName) {
    const { state } = parseState(q, tab);
    if (!liveFor(state)) return { live: false as const };
    const since = Number(q.get("since"));
    if (
      Number(q.get("epoch")) !== feed.epoch || !Number.isFinite(since) || feed.missed(since)
    ) return { reload: "the live samples started over" };
    const rows = feed.after(since);
    if (rows.length === 0) return null;
    const columns = knownColumns(session.file);
    for (const c of feed.columns()) columns.add(c);
    const meta = feedMeta(session.file, rows, columns);
    const newest = rows.at(-1)!;
    const plan = planTab(state.tab, state, {
      columns: meta.columns,
      latest: state.tab === "containers" ? new Map(Object.entries(newest.values)) : undefined,
      points: opts.points,
    });
    const tabModel = buildTab(plan, plan.blocks.map((b) => rowsResult(rows, b.columns)), meta);
    if (tabSig(tabModel) !== q.get("sig")) return { reload: "the charts changed" };
    return {
      epoch: feed.epoch,
      last: newest.t,
      count: rows.length,
      blocks: tabModel.blocks,
      cards: tabModel.cards
        .filter((c) => c.id !== "samples" && c.id !== "events" && c.value !== "—")
        .map((c) => ({ id: c.id, value: c.value })),
      bars: tabModel.charts.filter((c) => c.kind === "bars").map((c) => ({
        id: c.id,
        bars: c.bars,
      })),
    };
  }

  const tabName = (name: string): TabName => {
    const t = TABS.find((x) => x.name === name);
    if (!t) throw new Refusal("not_found", `No tab '${name}'.`);
    return t.name;
  };

  /** 204 when the file has not changed since the version the page shows (auto-refresh). */
  async function unchanged(q: URLSearchParams): Promise<boolean> {
    const v = q.get("v");
    if (v === null) return false;
    if (feed.rows().length > 0 && liveFor(parseState(q).state)) return false; // gone live
    const fs = await fileState(session.file);
    return v === (fs.kind === "present" ? fs.version : "missing");
  }

  const app = secure(new Hono(), auth);

  app.use("*", async (c, next) => {
    await next();
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
        "frame-ancestors 'none'",
    );
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });

  app.route("/", liveApi(session));
  app.route("/", uiRoutes(ctx));

  const pages = new Hono();

  pages.get("/", async (c) => {
    const m = await model(new URL(c.req.url).searchParams, undefined);
    m.side = sideModel(ctx);
    return c.html(html`<!DOCTYPE html>${Page({ m, zones })}`);
  });

  pages.get("/tab/:name", async (c) => {
    const tab = tabName(c.req.param("name"));
    const q = new URL(c.req.url).searchParams;
    if (await unchanged(q)) return c.body(null, 204);
    const m = await model(q, tab);
    c.header("HX-Push-Url", pageUrl(m.state));
    return c.html(View({ m }));
  });

  pages.get("/tab/:name/panel", async (c) => {
    const tab = tabName(c.req.param("name"));
    const q = new URL(c.req.url).searchParams;
    if (await unchanged(q)) return c.body(null, 204);
    return c.html(Panel({ m: await model(q, tab) }));
  });

  pages.get("/tab/:name/live", (c) => {
    const r = liveAnswer(new URL(c.req.url).searchParams, tabName(c.req.param("name")));
    if (r === null) return c.body(null, 204);
    return c.json(r);
  });

  pages.get("/tab/:name/processes", async (c) => {
    const { state } = parseState(new URL(c.req.url).searchParams, tabName(c.req.param("name")));
    if (!state.file) state.file = basename(session.file);
    let p: ProcessesModel;
    try {
      const src = await current().get();
      const meta = await src.meta(sourceZone(state, serverZone));
      p = await processes(src, state.at ?? meta.last ?? 0, sourceZone(state, serverZone));
    } catch (err) {
      p = { at: null, asked: state.at ?? 0, list: [], total: 0, error: message(err) };
    }
    c.header("HX-Replace-Url", pageUrl(state));
    return c.html(ProcessTable({ p }));
  });

  const serve = async (rel: string, cache: string, ifNoneMatch: string | undefined) => {
    const a = await asset(rel);
    if (!a) throw new Refusal("not_found", "Not found.");
    const headers = { "Content-Type": a.type, "Cache-Control": cache, ETag: a.etag };
    if (ifNoneMatch === a.etag) return new Response(null, { status: 304, headers });
    return new Response(a.body, { headers });
  };

  pages.get("/vendor/:name", (c) => {
    const rel = VENDOR[c.req.param("name")];
    if (!rel) throw new Refusal("not_found", "Not found.");
    // The package version changes only with deno.json: cache for a day, then revalidate.
    return serve(rel, "public, max-age=86400", c.req.header("If-None-Match"));
  });

  pages.get("/static/:name", (c) => {
    const name = c.req.param("name");
    if (!/^[a-z0-9_-]+\.(js|css|svg|png|ico)$/.test(name)) {
      throw new Refusal("not_found", "Not found.");
    }
    // Our own code changes with the checkout: always revalidate (ETag).
    return serve(`static/${name}`, "no-cache", c.req.header("If-None-Match"));
  });

  pages.get("/static/js/*", (c) => {
    const rel = c.req.path.slice("/static/".length);
    if (!CLIENT_MODULE.test(rel)) throw new Refusal("not_found", "Not found.");
    return serve(`static/${rel}`, "no-cache", c.req.header("If-None-Match"));
  });

  app.route("/", pages);
  app.route("/", api(() => current().get()));

  return Object.assign(app, {
    session,
    feed,
    close: async () => {
      feed.close();
      await holder.close();
      if (ownSession) await session.close();
    },
  });
}

/** Every column the tabs chart, tab by tab: long-range summaries are built in this order. */
function chartColumns(columns: ColumnInfo[]): string[] {
  return TABS.flatMap((t) =>
    planTab(t.name, { ...DEFAULT_STATE, tab: t.name }, { columns }).blocks.flatMap((b) => b.columns)
  );
}
