// The layout stays: no import cycle between our files, and the tracer (collectors and store)
// never reaches into the server or its views. Read from the sources, as `deno info` would.
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

Deno.test("the tracer imports nothing from the server or its views", () => {
  const crossings: string[] = [];
  for (const [file, deps] of importGraph()) {
    if (!file.startsWith("tracer/")) continue;
    for (const d of deps) {
      const edge = `${file} -> ${d}`;
      if (/^(web|views)\//.test(d)) crossings.push(edge);
    }
  }
  assert.deepEqual(crossings, []);
});

Deno.test("the views own their model types: they import nothing from the server", () => {
  const crossings: string[] = [];
  for (const [file, deps] of importGraph()) {
    if (!file.startsWith("views/")) continue;
    for (const d of deps) if (d.startsWith("web/")) crossings.push(`${file} -> ${d}`);
  }
  assert.deepEqual(crossings, []);
});
