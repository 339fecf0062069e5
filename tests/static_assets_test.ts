// Our client code as the server hands it out: every ES module under static/js/ is served as
// JavaScript (ETag, no-cache), nothing outside it is reachable through /static/js/, and every
// import between the modules names a file that is there.
import assert from "node:assert/strict";
import { createApp } from "../src/server/app.ts";
import { tempDir } from "./helpers.ts";

const JS_DIR = new URL("../static/js/", import.meta.url);

/** The .js files under static/js/, as paths relative to it ("charts/line.js"). */
function modules(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir, JS_DIR))) {
    if (e.isDirectory) out.push(...modules(`${dir}${e.name}/`));
    else if (e.name.endsWith(".js")) out.push(`${dir}${e.name}`);
  }
  return out.sort();
}

/** The specifiers a module imports: `from "x"`, `import "x"` and `import("x")` (JSDoc types). */
function importsOf(text: string): string[] {
  // `from` only at the end of an import or export statement (not `querySelector("#from")`).
  const re =
    /(?:^\s*(?:import|export)\b[^;"']*?\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)["']([^"']+)["']/gm;
  return [...text.matchAll(re)].map((m) => m[1]!);
}

/** An app over a trace that is not there: the assets do not need one. */
function app() {
  return createApp({ file: `${tempDir()}/none.parquet`, eager: false });
}

Deno.test("every module under static/js/ is served as JavaScript, with an ETag and no-cache", async () => {
  const list = modules();
  assert.ok(list.includes("main.js"), "the entry module");
  assert.ok(list.some((m) => m.startsWith("charts/")), "the chart kinds");
  const a = app();
  try {
    for (const m of list) {
      const url = `/static/js/${m}`;
      const res = await a.request(url);
      assert.equal(res.status, 200, url);
      assert.match(res.headers.get("content-type")!, /^text\/javascript/, url);
      assert.equal(res.headers.get("cache-control"), "no-cache", url);
      assert.equal(await res.text(), await Deno.readTextFile(new URL(m, JS_DIR)), url);
      const etag = res.headers.get("etag")!;
      assert.ok(etag, url);
      const again = await a.request(url, { headers: { "If-None-Match": etag } });
      assert.equal(again.status, 304, url);
      await again.body?.cancel();
    }
  } finally {
    await a.close();
  }
});

Deno.test("the page loads its entry module from static/js/, and every script it names is served", async () => {
  const a = app();
  try {
    const page = await (await a.request("/")).text();
    assert.match(page, /<script type="module" src="\/static\/js\/main\.js"><\/script>/);
    const srcs = [...page.matchAll(/<script[^>]* src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(srcs.length >= 3, srcs.join(", "));
    for (const src of srcs) {
      const res = await a.request(src);
      assert.equal(res.status, 200, src);
      assert.match(res.headers.get("content-type")!, /javascript/, src);
      await res.body?.cancel();
    }
  } finally {
    await a.close();
  }
});

Deno.test("paths that leave static/js/ or name anything but a module there are 404", async () => {
  const a = app();
  try {
    for (
      const url of [
        "/static/js/..%2f..%2fdeno.json",
        "/static/js/..%2F..%2Fdeno.json",
        "/static/js/../deno.json",
        "/static/js/../../deno.json",
        "/static/..%2fdeno.json",
        "/static/js/%2e%2e/%2e%2e/deno.json",
        "/static/js/..%5c..%5cdeno.json",
        "/static/js\\..\\..\\deno.json",
        "/static/js/charts/..%2f..%2f..%2fdeno.json",
        "/static/js/%2fetc%2fpasswd",
        "/static/js/",
        "/static/js",
        "/static/js/nope.js",
        "/static/js/Main.js",
        "/static/js/main.ts",
        "/static/js/main.js.map",
        "/static/js/charts/deeper/line.js",
        "/static/js/other/line.js",
        "/static/app.js",
      ]
    ) {
      const res = await a.request(url);
      assert.equal(res.status, 404, url);
      await res.body?.cancel();
    }
  } finally {
    await a.close();
  }
});

Deno.test("every import in static/js/ names a module that is there, and all are reached from main.js", async () => {
  const list = modules();
  const graph = new Map<string, string[]>();
  const vendor = new Set<string>();
  for (const m of list) {
    const from = new URL(m, JS_DIR);
    const targets: string[] = [];
    for (const spec of importsOf(await Deno.readTextFile(from))) {
      if (spec.startsWith("/vendor/")) {
        vendor.add(spec);
        continue;
      }
      // The browser resolves relative URLs only: "./x.js" or "../x.js", extension included.
      assert.match(spec, /^\.\.?\/.*\.js$/, `${m} imports '${spec}'`);
      const target = new URL(spec, from);
      assert.ok(target.href.startsWith(JS_DIR.href), `${m} imports '${spec}', outside static/js/`);
      const rel = target.href.slice(JS_DIR.href.length);
      assert.ok(list.includes(rel), `${m} imports '${spec}', which is not there`);
      targets.push(rel);
    }
    graph.set(m, targets);
  }
  const reached = new Set<string>();
  const visit = (m: string) => {
    if (reached.has(m)) return;
    reached.add(m);
    for (const t of graph.get(m) ?? []) visit(t);
  };
  visit("main.js");
  assert.deepEqual(list.filter((m) => !reached.has(m)), [], "modules main.js never reaches");
  assert.ok(vendor.has("/vendor/uplot.js"), "uPlot comes from /vendor/");
  const a = app();
  try {
    for (const spec of vendor) {
      const res = await a.request(spec);
      assert.equal(res.status, 200, spec);
      await res.body?.cancel();
    }
  } finally {
    await a.close();
  }
});
