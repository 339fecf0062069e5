// Hands memory back after a fold: a full GC (when V8 exposes it), then glibc's malloc_trim,
// which returns the C heap's free pages to the system. A fold compresses a hundred pages
// with zstd; without the trim the C heap keeps about 7 MiB that it no longer uses.

let trim: (() => void) | null | undefined;

export function releaseMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  if (trim === undefined) trim = openTrim(); // once: null when it cannot be had
  trim?.();
}

/** malloc_trim(0) where the C library is glibc and FFI is allowed; otherwise nothing. */
function openTrim(): (() => void) | null {
  if (Deno.build.os !== "linux") return null;
  try {
    // Never ask: a run without --allow-ffi just keeps the memory.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return null; // musl, or no libc.so.6
  }
}
