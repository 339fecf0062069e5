// Handing memory back: which mappings may be dropped (over a real process's smaps, and
// edge cases built on it), and a real process that drops them and goes on working.
import assert from "node:assert/strict";
import { droppableMappings, parseSmaps } from "../src/store/smaps.ts";

const SMAPS = Deno.readTextFileSync(new URL("./fixtures/smaps/deno.txt", import.meta.url));
const PROBE = new URL("./fixtures/release_probe.ts", import.meta.url).pathname;
/** The executable in the recorded smaps. */
const EXE = "/root/.npm/_npx/7a40be787520bede/node_modules/@deno/linux-x64-glibc/deno";

/** One smaps entry of the executable; `fields` replace or drop (null) the usual lines. */
function entry(
  start: string,
  perms: string,
  fields: Record<string, string | null>,
  path = EXE,
): string {
  const lines: Record<string, string | null> = {
    Rss: "64 kB",
    Anonymous: "0 kB",
    Swap: "0 kB",
    VmFlags: "rd ex mr mw me",
    ...fields,
  };
  const body = Object.entries(lines).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`);
  return [`${start}-7f0000100000 ${perms} 00000000 fe:00 1441834 ${path}`, ...body].join("\n");
}

Deno.test("smaps: every mapping parsed with its size, private pages, swap and flags", () => {
  const maps = parseSmaps(SMAPS);
  assert.equal(maps.length, 22);
  const text = maps.find((m) => m.perms === "r-xp" && m.path === EXE)!;
  assert.equal(text.start, 0x5626e5a8d000n);
  assert.equal(text.end, 0x5626e9781000n);
  assert.deepEqual([text.rss, text.anonymous, text.swap], [13320, 0, 0]);
  assert.deepEqual(text.flags, ["rd", "ex", "mr", "mw", "me"]);
  assert.equal(maps.find((m) => m.path === "[heap]")?.anonymous, 3408);
  assert.equal(maps.at(-1)?.path, "/tmp/old tools/libold.so (deleted)");
});

Deno.test("smaps: only the executable's read-only pages that were never copied", () => {
  const dropped = droppableMappings(SMAPS, EXE).map((m) => `${m.perms} ${m.start.toString(16)}`);
  // Its read-only data and its code; not its relocated (RELRO) page, not its data, not
  // libc, the code cache, anonymous memory, [vdso] or device memory.
  assert.deepEqual(dropped, ["r--p 5626e3c89000", "r-xp 5626e5a8d000"]);
});

Deno.test("smaps: a mapping that is or was private in any way is kept", () => {
  const cases = [
    entry("7f0000000000", "r-xp", {}), // the one to drop
    entry("7f0000010000", "r--p", { Swap: "8 kB" }), // a copied page, swapped out
    entry("7f0000020000", "r--p", { VmFlags: "rd mr mw me ac" }), // RELRO, pages not copied yet
    entry("7f0000030000", "r-xp", { VmFlags: "rd ex mr mw me lo" }), // locked
    entry("7f0000040000", "r-xp", { Rss: "0 kB" }), // nothing resident
    entry("7f0000050000", "r-xp", { Anonymous: null }), // a kernel without the line
    entry("7f0000060000", "r-xp", { Swap: null }),
    entry("7f0000070000", "r-xp", { VmFlags: null }),
    entry("7f0000080000", "rw-p", {}), // writable
    entry("7f0000090000", "r-xp", {}, `${EXE}.old`), // another file
    entry("7f00000a0000", "r-xp", {}, `${EXE} (deleted)`), // replaced on disk: still the file
  ].join("\n");
  const dropped = droppableMappings(cases, EXE).map((m) => m.start.toString(16));
  assert.deepEqual(dropped, ["7f0000000000", "7f00000a0000"]);
});

Deno.test("release: a process drops its start-up pages and keeps working", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  const memTotal = /MemTotal:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1];
  assert.equal(r.sysTotal, Number(memTotal) * 1024); // the snapshot ran after the drop
  const [before, after] = [r.before.file, r.after.file];
  assert.ok(after < before - 8 * 1024, `file pages ${before} KiB -> ${after} KiB`);
});

Deno.test("release: without --allow-ffi nothing is dropped and nothing fails", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", PROBE, "--no-snapshot"],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  // A GC may free a little; dropping the file pages would free about 20 MiB.
  assert.ok(r.after.rss > r.before.rss - 4 * 1024, `RSS ${r.before.rss} KiB -> ${r.after.rss} KiB`);
});
