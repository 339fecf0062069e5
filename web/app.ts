// The dashboard's HTTP app: pages and fragments (views/), our client code (static/), the
// libraries it loads (from their npm packages) and the data API (web/api.ts).
//
// deno compile: the files read at run time must be embedded, e.g.
//   deno compile -A --include static/ --include node_modules/uplot/dist/uPlot.esm.js \
//     --include node_modules/uplot/dist/uPlot.min.css --include node_modules/htmx.org/dist/htmx.min.js \
//     --output sysmon main.ts
// (plus what web/source.ts names for DuckDB-WASM).
import { Hono } from "hono";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import { buildTab, containerLatestColumns, latestValues, planTab } from "../views/charts.ts";
import { Page } from "../views/layout.tsx";
import type { PageModel, ProcessesModel } from "../views/model.ts";
import { Panel, ProcessTable } from "../views/panel.tsx";
import {
  pageUrl,
  parseState,
  type TabName,
  TABS,
  type ViewState,
  viewWindow,
} from "../views/state.ts";
import { View } from "../views/view.tsx";
import { localZone } from "../tracer/metadata.ts";
import { apiRoutes } from "./api.ts";
import { openTrace } from "./source.ts";
import type { SeriesResult, TraceSource } from "./types.ts";

export interface AppOptions {
  /** The trace to serve (it may not exist yet: the page waits for it). */
  file: string;
  /** Opens a trace; default: openTrace of web/source.ts. */
  open?: (path: string) => Promise<TraceSource>;
  /** Auto-refresh period of the page, ms (default 10 s). */
  refreshMs?: number;
  /** x positions per chart query; default about a chart's width (the benchmark sends every row). */
  points?: number;
  /** Open the trace at once (default) rather than on the first request. */
  eager?: boolean;
  /** Mounts the data API; default: apiRoutes of web/api.ts. */
  api?: (getSource: () => Promise<TraceSource>) => Hono;
}

export type DashboardApp = Hono & {
  /** Closes the open trace (the server is shutting down). */
  close(): Promise<void>;
};

// ---- files served as they are

const ROOT = new URL("../", import.meta.url);

/** Libraries the page loads, served from their npm packages. */
const VENDOR: Record<string, string> = {
  "uplot.js": "node_modules/uplot/dist/uPlot.esm.js",
  "uplot.css": "node_modules/uplot/dist/uPlot.min.css",
  "htmx.js": "node_modules/htmx.org/dist/htmx.min.js",
};

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
    throw err;
  }
  let sidecar = "-";
  try {
    sidecar = statKey(await Deno.stat(`${path}.meta.json`));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
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

// ---- the app

export function createApp(opts: AppOptions): DashboardApp {
  const open = opts.open ?? ((path: string) => openTrace(path));
  const api = opts.api ?? apiRoutes;
  const holder = new SourceHolder(opts.file, open);
  const refreshMs = opts.refreshMs ?? 10_000;
  const serverZone = localZone();
  const fileBase = opts.file.slice(opts.file.lastIndexOf("/") + 1);
  const asset = assetCache();
  // Start the slow parts now, not on the first page: read the assets, open the trace (the
  // data engine starts, the file is read). A failure here is shown by the first page.
  for (
    const rel of [...Object.values(VENDOR), "static/app.js", "static/app.css", "static/theme.js"]
  ) {
    asset(rel).catch(() => {}); // served (or 404) by the route, which awaits the same promise
  }
  if (opts.eager !== false) {
    fileState(opts.file).then((fs) => fs.kind === "present" ? holder.get() : null).catch(() => {});
  }
  const zones = (Intl as unknown as { supportedValuesOf(k: string): string[] })
    .supportedValuesOf("timeZone");

  /** Everything a view of `tab` shows. */
  async function model(q: URLSearchParams, tab: string | undefined): Promise<PageModel> {
    const { state, errors } = parseState(q, tab);
    if (!state.file) state.file = fileBase;
    const m: PageModel = {
      state,
      errors,
      file: opts.file,
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
    };
    const fs = await fileState(opts.file);
    if (fs.kind === "missing") {
      m.problem = { kind: "waiting", message: `${opts.file} does not exist yet.` };
      return m;
    }
    m.version = fs.version;
    const zone = sourceZone(state, serverZone);
    try {
      const src = await holder.get();
      const meta = await src.meta(zone);
      m.meta = meta;
      if (meta.first === null || meta.last === null || meta.rows === 0) return m;
      const w = viewWindow(state, meta.first, meta.last);
      m.window = w;
      const latest = state.tab === "containers"
        ? latestValues(
          await query(src, containerLatestColumns(meta.columns), w.end - 60_000, w.end, 1000, zone),
        )
        : undefined;
      const plan = planTab(state.tab, state, {
        columns: meta.columns,
        latest,
        points: opts.points,
      });
      const results = await Promise.all(
        plan.blocks.map((b) => query(src, b.columns, w.start, w.end, b.points, zone)),
      );
      m.tab = buildTab(plan, results, meta);
      if (state.tab === "cpu") m.processes = await processes(src, state.at ?? w.end, zone);
    } catch (err) {
      // The file went away between the stat and the read: wait for it again.
      const gone = (err as { kind?: string }).kind === "missing";
      m.problem = { kind: gone ? "waiting" : "error", message: message(err) };
    }
    return m;
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

  const tabName = (name: string): TabName => {
    const t = TABS.find((x) => x.name === name);
    if (!t) throw new HTTPException(404, { message: `No tab '${name}'.` });
    return t.name;
  };

  /** 204 when the file has not changed since the version the page shows (auto-refresh). */
  async function unchanged(q: URLSearchParams): Promise<boolean> {
    const v = q.get("v");
    if (v === null) return false;
    const fs = await fileState(opts.file);
    return v === (fs.kind === "present" ? fs.version : "missing");
  }

  const app = new Hono();

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

  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.text(err.message, err.status);
    console.error(err);
    return c.text(`Internal error: ${message(err)}`, 500);
  });

  app.get("/", async (c) => {
    const m = await model(new URL(c.req.url).searchParams, undefined);
    return c.html(html`<!DOCTYPE html>${Page({ m, zones })}`);
  });

  app.get("/tab/:name", async (c) => {
    const tab = tabName(c.req.param("name"));
    const q = new URL(c.req.url).searchParams;
    if (await unchanged(q)) return c.body(null, 204);
    const m = await model(q, tab);
    c.header("HX-Push-Url", pageUrl(m.state));
    return c.html(View({ m }));
  });

  app.get("/tab/:name/panel", async (c) => {
    const tab = tabName(c.req.param("name"));
    const q = new URL(c.req.url).searchParams;
    if (await unchanged(q)) return c.body(null, 204);
    return c.html(Panel({ m: await model(q, tab) }));
  });

  app.get("/tab/:name/processes", async (c) => {
    const { state } = parseState(new URL(c.req.url).searchParams, tabName(c.req.param("name")));
    if (!state.file) state.file = fileBase;
    let p: ProcessesModel;
    try {
      const src = await holder.get();
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
    if (!a) throw new HTTPException(404, { message: "Not found." });
    const headers = { "Content-Type": a.type, "Cache-Control": cache, ETag: a.etag };
    if (ifNoneMatch === a.etag) return new Response(null, { status: 304, headers });
    return new Response(a.body, { headers });
  };

  app.get("/vendor/:name", (c) => {
    const rel = VENDOR[c.req.param("name")];
    if (!rel) throw new HTTPException(404, { message: "Not found." });
    // The package version changes only with deno.json: cache for a day, then revalidate.
    return serve(rel, "public, max-age=86400", c.req.header("If-None-Match"));
  });

  app.get("/static/:name", (c) => {
    const name = c.req.param("name");
    if (!/^[a-z0-9_-]+\.(js|css|svg|png|ico)$/.test(name)) {
      throw new HTTPException(404, { message: "Not found." });
    }
    // Our own code changes with the checkout: always revalidate (ETag).
    return serve(`static/${name}`, "no-cache", c.req.header("If-None-Match"));
  });

  app.route("/", api(() => holder.get()));

  return Object.assign(app, {
    close: () => holder.close(),
  });
}
