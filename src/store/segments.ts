// The files of one Parquet trace. A trace is `trace.parquet`, then, once it holds a full row
// group (an hour at 1 Hz) or when a fold writes only its new rows, `trace.0001.parquet`,
// `trace.0002.parquet`, … beside it: each file is complete, none is rewritten once the trace
// has moved past it, and `trace.*parquet` names them all. The journal stays beside the first.
import fs from "node:fs";
import { basename, dirname, join } from "node:path";

export interface Segment {
  /** 0 for the trace's own path, then 1, 2, … */
  n: number;
  path: string;
  /** Bytes, when listed. */
  size: number;
}

/** `trace.parquet` → `trace`: what segment names start with. */
function stem(base: string): string {
  const name = basename(base);
  return name.endsWith(".parquet") ? name.slice(0, -".parquet".length) : name;
}

/** Segment `n` of the trace at `base` (0: `base` itself). */
export function segmentPath(base: string, n: number): string {
  if (n === 0) return base;
  return join(dirname(base), `${stem(base)}.${String(n).padStart(4, "0")}.parquet`);
}

/** The glob that names every file of the trace at `base` (`trace.*parquet`). */
export function segmentGlob(base: string): string {
  return join(dirname(base), `${stem(base)}.*parquet`);
}

/** The number of segment `name` (a file name) of the trace at `base`, or null. */
export function segmentNumber(base: string, name: string): number | null {
  if (name === basename(base)) return 0;
  const s = stem(base);
  if (!name.startsWith(`${s}.`) || !name.endsWith(".parquet")) return null;
  const digits = name.slice(s.length + 1, -".parquet".length);
  return /^\d{4,}$/.test(digits) && Number(digits) > 0 ? Number(digits) : null;
}

/** The trace's files on disk (regular files only), in order: `base` first when it exists. */
export function listSegments(base: string): Segment[] {
  let names: string[];
  try {
    names = fs.readdirSync(dirname(base));
  } catch {
    return [];
  }
  const out: Segment[] = [];
  for (const name of names) {
    const n = segmentNumber(base, name);
    if (n === null) continue;
    const path = n === 0 ? base : join(dirname(base), name);
    try {
      const st = fs.statSync(path);
      if (st.isFile()) out.push({ n, path, size: st.size });
    } catch {
      // gone since the listing, or a dangling link: not part of the trace
    }
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Bytes of the trace's files; null when there is none. */
export function traceBytes(base: string): number | null {
  const files = listSegments(base);
  return files.length === 0 ? null : files.reduce((n, s) => n + s.size, 0);
}

/** Whether the trace at `base` has files beside it (segments). */
export function hasSegments(base: string): boolean {
  return listSegments(base).some((s) => s.n > 0);
}
