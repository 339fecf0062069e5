// Handing memory back: which mappings may be dropped (over a real process's smaps), and
// a real process that drops them and goes on working.
import assert from "node:assert/strict";
import { droppableMappings, parseSmaps } from "../tracer/smaps.ts";

const SMAPS = Deno.readTextFileSync(new URL("./fixtures/smaps/deno.txt", import.meta.url));
const PROBE = new URL("./fixtures/release_probe.ts", import.meta.url).pathname;

Deno.test("smaps: every mapping parsed with its size and private pages", () => {
  const maps = parseSmaps(SMAPS);
  assert.deepEqual(maps.length, 22);
  const text = maps.find((m) => m.perms === "r-xp" && m.path.endsWith("/deno"))!;
  assert.deepEqual(text.start, 0x5626e5a8d000n);
  assert.deepEqual(text.end, 0x5626e9781000n);
  assert.deepEqual([text.rss, text.anonymous], [13320, 0]);
  assert.deepEqual(maps.find((m) => m.path === "[heap]")?.anonymous, 3408);
  assert.deepEqual(maps.at(-1)?.path, "/tmp/old tools/libold.so (deleted)");
});

Deno.test("smaps: only read-only file pages with no private copy are dropped", () => {
  const dropped = droppableMappings(SMAPS).map((m) => `${m.perms} ${m.path.split("/").at(-1)}`);
  assert.deepEqual(dropped, [
    "r--p deno", // read-only data
    "r-xp deno", // code
    "r--s v8_code_cache_v2",
    "r--p libc.so.6",
    "r-xp libc.so.6",
    "r-xp libold.so (deleted)",
  ]);
  // Kept: writable mappings, the relocated (RELRO) pages of deno and libc, anonymous
  // memory, [vdso], and device memory.
});

Deno.test("release: a process drops its start-up file pages and keeps working", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE],
    stderr: "inherit",
  }).output();
  assert.deepEqual(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  const memTotal = /MemTotal:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1];
  assert.deepEqual(r.sysTotal, Number(memTotal) * 1024); // the snapshot ran after the drop
  const [before, after, again] = [r.before.file, r.after.file, r.again.file];
  assert(after < before - 8 * 1024, `file pages ${before} KiB -> ${after} KiB`);
  assert(again < before - 8 * 1024, `after a snapshot: ${again} KiB`);
});

Deno.test("release: without --allow-ffi nothing is dropped and nothing fails", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", PROBE, "--no-snapshot"],
    stderr: "inherit",
  }).output();
  assert.deepEqual(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  // A GC may free a little; dropping the file pages would free about 20 MiB.
  assert(r.after.rss > r.before.rss - 4 * 1024, `RSS ${r.before.rss} KiB -> ${r.after.rss} KiB`);
});
