// Handing memory back to the system.
// - releaseMemory(), after a fold and once a minute: a full GC (where V8 exposes gc()),
//   then glibc's malloc_trim, which returns the C heap's free pages (a fold's zstd
//   buffers, about 7 MiB).
// - dropExecutablePages(), at the end of start-up and after each fold (every 5 minutes):
//   the deno executable's code and read-only data. Start-up touches about 35 MiB of it
//   (module loading, TypeScript, npm resolution), and V8's compiler and a fold
//   touch more as the run goes on; sampling needs a few MiB. madvise(MADV_DONTNEED) unmaps
//   them; they stay in the page cache, and a page needed again is mapped back from there
//   (a minor fault, no disk read: about 200 of them after a drop, under a millisecond).

import { droppableMappings } from "./smaps.ts";

const MADV_DONTNEED = 4;

interface Libc {
  trim(): void;
  dontNeed(start: bigint, length: bigint): void;
}

let libc: Libc | null | undefined;

function getLibc(): Libc | null {
  if (libc === undefined) libc = openLibc(); // once: null when it cannot be had
  return libc;
}

export function releaseMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  getLibc()?.trim();
}

export function dropExecutablePages() {
  const c = getLibc();
  if (c === null) return;
  exe ??= executable();
  let smaps: string;
  try {
    smaps = Deno.readTextFileSync("/proc/self/smaps");
  } catch {
    return; // no /proc, or Deno allows reading /proc/self only with -A
  }
  for (const m of droppableMappings(smaps, exe)) c.dontNeed(m.start, m.end - m.start);
}

let exe: string | undefined;

/** The executable's path as smaps names it (found once: it may be replaced later). */
function executable(): string {
  // An executable replaced on disk (an upgrade) reads "… (deleted)"; smaps says the same.
  const path = Deno.execPath().replace(/ \(deleted\)$/, "");
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** glibc through FFI where the C library is glibc and FFI is allowed; otherwise null. */
function openLibc(): Libc | null {
  if (Deno.build.os !== "linux") return null;
  try {
    // Never ask: a run without --allow-ffi just keeps the memory.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const lib = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
      madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
    });
    return {
      trim: () => void lib.symbols.malloc_trim(0n),
      // A failure only means those pages stay.
      dontNeed: (start, length) =>
        void lib.symbols.madvise(Deno.UnsafePointer.create(start), length, MADV_DONTNEED),
    };
  } catch {
    return null; // musl, or no libc.so.6
  }
}
