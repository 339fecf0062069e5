// Handing memory back to the system.
// - releaseMemory(), after a fold and once a minute: a full GC (where V8 exposes gc()),
//   then glibc's malloc_trim, which returns the C heap's free pages (a fold's zstd
//   buffers, about 7 MiB).
// - dropStartupPages(), at the end of start-up and after the first fold: the pages of the
//   deno executable that start-up touched (module loading, TypeScript, npm resolution),
//   about 20 MiB of code and read-only data the tracer never runs again.
//   madvise(MADV_DONTNEED) unmaps them; they stay in the page cache, and a page needed
//   again is mapped back from there (a minor fault, no disk read). Not repeated: what the
//   tracer keeps using stays mapped, so memory pressure does not evict it first.

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

export function dropStartupPages() {
  const c = getLibc();
  if (c === null) return;
  let smaps: string, exe: string;
  try {
    smaps = Deno.readTextFileSync("/proc/self/smaps");
    exe = Deno.realPathSync(Deno.execPath());
  } catch {
    return; // no /proc, or Deno allows reading /proc/self only with -A
  }
  for (const m of droppableMappings(smaps, exe)) c.dontNeed(m.start, m.end - m.start);
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
