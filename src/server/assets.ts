// Files served as they are: our client code and styles (static/) and the libraries the page
// loads, from their npm packages. Each is read once, with an ETag from its content.
//
// deno compile: the files read at run time must be embedded (deno.json's `compile` task):
//   deno compile -A --include static/ --include node_modules/uplot/dist/uPlot.esm.js \
//     --include node_modules/uplot/dist/uPlot.min.css --include node_modules/htmx.org/dist/htmx.min.js \
//     --include node_modules/@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm \
//     --include node_modules/@duckdb/duckdb-wasm/dist/duckdb-eh.wasm --output sysmon main.ts
// (src/views/ are modules, compiled in like the rest of the code).
import { Hono } from "hono";
import { Refusal } from "../schema/refusal.ts";

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
export function assetCache(): AssetReader {
  const cache = new Map<string, Promise<Asset | null>>();
  return (rel: string) => {
    let p = cache.get(rel);
    if (!p) cache.set(rel, p = loadAsset(rel));
    return p;
  };
}

/** The reader of assets: each file read once, on first use. */
export type AssetReader = (rel: string) => Promise<Asset | null>;

/** Reads every asset now, so that the first page does not wait (a failure: served as 404). */
export function warmAssets(asset: AssetReader) {
  for (const rel of [...Object.values(VENDOR), "static/app.css", "static/theme.js"]) {
    asset(rel).catch(() => {}); // the route awaits the same promise
  }
  clientModules().then((mods) => {
    for (const m of mods) asset(`static/${m}`).catch(() => {});
  }).catch(() => {});
}

/** /vendor/:name, /static/:name and /static/js/… */
export function assetRoutes(asset: AssetReader): Hono {
  const app = new Hono();
  const serve = async (rel: string, cache: string, ifNoneMatch: string | undefined) => {
    const a = await asset(rel);
    if (!a) throw new Refusal("not_found", "Not found.");
    const headers = { "Content-Type": a.type, "Cache-Control": cache, ETag: a.etag };
    if (ifNoneMatch === a.etag) return new Response(null, { status: 304, headers });
    return new Response(a.body, { headers });
  };

  app.get("/vendor/:name", (c) => {
    const rel = VENDOR[c.req.param("name")];
    if (!rel) throw new Refusal("not_found", "Not found.");
    // The package version changes only with deno.json: cache for a day, then revalidate.
    return serve(rel, "public, max-age=86400", c.req.header("If-None-Match"));
  });

  app.get("/static/:name", (c) => {
    const name = c.req.param("name");
    if (!/^[a-z0-9_-]+\.(js|css|svg|png|ico)$/.test(name)) {
      throw new Refusal("not_found", "Not found.");
    }
    // Our own code changes with the checkout: always revalidate (ETag).
    return serve(`static/${name}`, "no-cache", c.req.header("If-None-Match"));
  });

  app.get("/static/js/*", (c) => {
    const rel = c.req.path.slice("/static/".length);
    if (!CLIENT_MODULE.test(rel)) throw new Refusal("not_found", "Not found.");
    return serve(`static/${rel}`, "no-cache", c.req.header("If-None-Match"));
  });

  return app;
}
