import assert from "node:assert/strict";
import { replaceAtomically } from "../src/store/atomic.ts";
import { tempDir } from "./helpers.ts";

// This thread's count: `deno test --parallel` runs other test files in other threads of the
// same process, whose writes /proc/self/io would add.
const wchar = () =>
  Number(/^wchar: (\d+)/m.exec(Deno.readTextFileSync("/proc/thread-self/io"))![1]);

function file(bytes: number): { path: string; old: Uint8Array } {
  const path = `${tempDir()}/t.bin`;
  const old = new Uint8Array(bytes).map((_, i) => i % 251);
  Deno.writeFileSync(path, old);
  return { path, old };
}

Deno.test("replaceAtomically() keeps the first bytes and writes only them and the tail", () => {
  const { path, old } = file(4 << 20);
  const tail = new TextEncoder().encode("new tail");
  const before = wchar();
  const ino = replaceAtomically(path, tail, 4);
  const written = wchar() - before;
  const now = Deno.readFileSync(path);
  assert.deepEqual(now.subarray(0, 4), old.subarray(0, 4));
  assert.deepEqual(now.subarray(4), tail);
  assert.equal(Deno.statSync(path).ino, ino);
  // Not a copy of the 4 MiB file cut down afterwards: 4 bytes and the tail.
  assert.ok(written < 64 * 1024, `${written} bytes written`);
});

Deno.test("replaceAtomically() keeping most of a file ends it where asked", () => {
  const { path, old } = file(1 << 20);
  const keep = (1 << 20) - 1000;
  replaceAtomically(path, new Uint8Array([7, 7, 7]), keep);
  const now = Deno.readFileSync(path);
  assert.equal(now.length, keep + 3);
  assert.deepEqual(now.subarray(0, keep), old.subarray(0, keep));
  assert.deepEqual(now.subarray(keep), new Uint8Array([7, 7, 7]));
  replaceAtomically(path, new Uint8Array([1]));
  assert.deepEqual(Deno.readFileSync(path), new Uint8Array([1]));
});

Deno.test("replaceAtomically() keeps the permissions of the file it replaces", () => {
  for (const keep of [0, 4, (1 << 20) - 10]) {
    const { path } = file(1 << 20);
    Deno.chmodSync(path, 0o600); // a trace holds command lines: its owner may keep it private
    replaceAtomically(path, new Uint8Array([1, 2]), keep);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600, `keep ${keep}`);
  }
});
