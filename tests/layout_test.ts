// The layout stays: no import cycle between our files, and each folder of src/ imports only
// the layers below it (LAYERS). Read from the sources, as `deno info` would.
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(new URL("..", import.meta.url).pathname);
const SKIP = new Set(["node_modules", "tests", ".git", "test-artifacts", "static"]);

function sources(dir = ROOT): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory && !SKIP.has(e.name) && !e.name.startsWith(".")) out.push(...sources(path));
    else if (e.isFile && /\.tsx?$/.test(e.name)) out.push(relative(ROOT, path));
  }
  return out;
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;

/** file -> the files of ours it imports (static, re-exported or dynamic, types included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources()) {
    const text = Deno.readTextFileSync(join(ROOT, file));
    const deps = [...text.matchAll(IMPORT)].map((m) =>
      normalize(join(dirname(file), m[1] ?? m[2]!))
    );
    graph.set(file, deps);
  }
  return graph;
}

/** Every cycle's files (strongly connected components of more than one file, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], on = new Set<string>(), found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const part: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        part.push(w);
      } while (w !== v);
      if (part.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(part.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

Deno.test("cycles() finds a cycle and its files, and none in a chain", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(cycles(g), [["a", "b", "c"]]);
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", []]])), []);
});

Deno.test("no import cycle between sysmon's files", () => {
  const graph = importGraph();
  assert.ok(graph.size > 50, `only ${graph.size} files found`);
  assert.deepEqual(cycles(graph), []);
});

/** Each layer of src/ and the layers it may import (its own always). */
const LAYERS: Record<string, string[]> = {
  schema: [],
  collect: ["schema"],
  store: ["schema"],
  tracer: ["schema", "collect", "store"],
  views: ["schema"],
  query: ["schema", "store", "views"],
  live: ["schema", "collect", "store", "tracer", "query", "views"],
  server: ["schema", "collect", "store", "tracer", "query", "live", "views"],
  cli: ["schema", "collect", "store", "tracer", "query", "live", "views", "server"],
};

const layerOf = (file: string) => /^src\/([a-z]+)\//.exec(file)?.[1] ?? null;

/** Imports that go against LAYERS, as "from -> to". */
function crossings(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, deps] of graph) {
    const from = layerOf(file);
    if (from === null) continue; // main.ts and mod.ts sit above every layer
    for (const d of deps) {
      const to = layerOf(d);
      if (to === from || d.endsWith(".json")) continue;
      if (to === null || !LAYERS[from]?.includes(to)) found.push(`${file} -> ${d}`);
    }
  }
  return found;
}

Deno.test("crossings() names an import against the layers", () => {
  const g = new Map([
    ["src/views/a.ts", ["src/schema/b.ts", "src/server/c.ts"]],
    ["src/collect/d.ts", ["src/collect/e.ts", "src/live/f.ts"]],
  ]);
  assert.deepEqual(crossings(g), [
    "src/views/a.ts -> src/server/c.ts",
    "src/collect/d.ts -> src/live/f.ts",
  ]);
});

Deno.test("every folder of src/ is a layer, and no import crosses the layers", () => {
  for (const e of Deno.readDirSync(join(ROOT, "src"))) assert.ok(e.name in LAYERS, e.name);
  assert.deepEqual(crossings(importGraph()), []);
});

/** Our source files: src/, static/ and the top-level modules (tests and fixtures aside). */
function ownFiles(): string[] {
  const out: string[] = ["main.ts", "mod.ts"];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) walk(rel);
      else if (/\.(tsx?|js)$/.test(e.name)) out.push(rel);
    }
  };
  walk("src");
  walk("static");
  return out;
}

const DECLARATION = new RegExp(
  String.raw`^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?\s+[\w$]+|` +
    String
      .raw`(?:(?:private|static|readonly|protected|public|async|get|set)\s+)*[\w#$]+\s*\(.*\)\s*(?::\s*[^=]+)?\{\s*$|` +
    String
      .raw`(?:const|let)\s+[\w$]+\s*=\s*(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*(?::\s*[^=]+)?=>\s*\{?\s*$)`,
);
const CONTROL = /^\s*(?:if|for|while|switch|catch|return|else|do|try)\b/;

/** Functions longer than `max` lines, as "file:line (n lines)": braces counted from each declaration. */
function longFunctions(file: string, text: string, max: number): string[] {
  const lines = text.split("\n");
  const found: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!DECLARATION.test(lines[i]!) || CONTROL.test(lines[i]!)) continue;
    let depth = 0, opened = false, j = i;
    for (; j < lines.length; j++) {
      const code = lines[j]!.replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`|\/\/.*$/g, "");
      for (const ch of code) {
        if (ch === "{") (depth++, opened = true);
        else if (ch === "}") depth--;
      }
      if (opened && depth <= 0) break;
    }
    if (j - i + 1 > max) found.push(`${file}:${i + 1} (${j - i + 1} lines)`);
  }
  return found;
}

Deno.test("longFunctions() measures a function from its declaration to its closing brace", () => {
  const body = (n: number) => Array.from({ length: n }, (_, k) => `  const a${k} = "}";`);
  const text = [
    "export function f() {",
    ...body(5),
    "}",
    "const g = async (x) => {",
    ...body(2),
    "};",
  ]
    .join("\n");
  assert.deepEqual(longFunctions("x.ts", text, 6), ["x.ts:1 (7 lines)"]);
  assert.deepEqual(longFunctions("x.ts", text, 7), []);
});

Deno.test("no source file is over 500 lines, no function over 120", () => {
  const files = ownFiles();
  assert.ok(files.length > 80, `only ${files.length} files found`);
  const long: string[] = [];
  const big: string[] = [];
  for (const f of files) {
    const text = Deno.readTextFileSync(join(ROOT, f));
    const n = text.split("\n").length - 1;
    if (n > 500) big.push(`${f} (${n} lines)`);
    long.push(...longFunctions(f, text, 120));
  }
  assert.deepEqual(big, []);
  assert.deepEqual(long, []);
});
