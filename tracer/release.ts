// Hands memory back after a fold and once a minute:
// - a full GC (when V8 exposes it);
// - glibc's malloc_trim, which returns the C heap's free pages (a fold's zstd buffers,
//   about 7 MiB) to the system;
// - the read-only file pages the process no longer touches: most of the deno executable's
//   code and data that start-up used (module loading, TypeScript, npm resolution), about
//   20 MiB. madvise(MADV_DONTNEED) unmaps them; they stay in the page cache, and a page
//   that is needed again is mapped back from there (a minor fault, no disk read).

import { droppableMappings } from "./smaps.ts";

const MADV_DONTNEED = 4;

interface Libc {
  trim(): void;
  dontNeed(start: bigint, length: bigint): void;
}

let libc: Libc | null | undefined;

export function releaseMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  if (libc === undefined) libc = openLibc(); // once: null when it cannot be had
  if (libc === null) return;
  libc.trim();
  let smaps: string;
  try {
    smaps = Deno.readTextFileSync("/proc/self/smaps");
  } catch {
    return; // no /proc, or reading it is not allowed
  }
  for (const m of droppableMappings(smaps)) libc.dontNeed(m.start, m.end - m.start);
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
      // A failure (a locked mapping, say) only means those pages stay.
      dontNeed: (start, length) =>
        void lib.symbols.madvise(Deno.UnsafePointer.create(start), length, MADV_DONTNEED),
    };
  } catch {
    return null; // musl, or no libc.so.6
  }
}
