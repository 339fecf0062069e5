// The Parquet files of a followed trace (the trace and its segments, src/store/segments.ts),
// each with its footer. A footer is read once per version of its file (known by its stat), so
// a look at a long trace costs a stat per file, not a footer per file.
import fs from "node:fs";
import { parquetReadObjects } from "hyparquet";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { listSegments } from "../store/segments.ts";
import { openRegularFile, PathKindError, readAt } from "../store/paths.ts";
import { rowRange, uncovered } from "../query/segmented.ts";
import { fileKey } from "../query/trace_file.ts";
import { footerOf } from "../store/parquet_trace.ts";

interface Footer {
  path: string;
  /** The version read: device, inode, size and mtime. */
  key: string;
  meta: FileMetaData;
  kv: Map<string, string>;
}

/** A file of the trace and where its rows are: the trace's rows [first, end). */
interface FollowedFile extends Footer {
  first: number;
  end: number;
}

/** A file changed or went away while the trace was read: read it again. */
export class FilesMoved extends Error {}

export class FollowedFiles {
  private footers = new Map<string, Footer>();
  /** Footers read, in all: what following costs. */
  footersRead = 0;

  constructor(readonly base: string) {}

  /** Changes whenever a file of the trace comes, goes or changes. */
  stamp(): string {
    return listSegments(this.base).map((s) => `${s.n}:${statKey(s.path) ?? "-"}`).join("|");
  }

  /** The files that hold the trace's rows now, in row order (a merged piece left out). */
  list(): FollowedFile[] {
    const found: Footer[] = [];
    for (const s of listSegments(this.base)) {
      const f = this.footer(s.path);
      if (f) found.push(f);
    }
    const listed = new Set(found.map((f) => f.path));
    for (const path of this.footers.keys()) if (!listed.has(path)) this.footers.delete(path);
    return uncovered(found, (f) => rowRange(Object.fromEntries(f.kv), Number(f.meta.num_rows)))
      .map(({ item, first, end }) => ({ ...item, first, end }))
      .sort((a, b) => a.first - b.first);
  }

  /** The trace's rows [from, to) that `f` holds, in `columns`. */
  async rows(
    f: FollowedFile,
    from: number,
    to: number,
    columns: string[],
  ): Promise<Record<string, unknown>[]> {
    const fd = openOrNull(f.path);
    if (fd === null) throw new FilesMoved(`${f.path} went away`);
    try {
      if (fdKey(fd) !== f.key) throw new FilesMoved(`${f.path} changed`);
      return await parquetReadObjects({
        file: fileBuffer(fd),
        metadata: f.meta,
        columns,
        rowStart: from - f.first,
        rowEnd: to - f.first,
        compressors,
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The file's footer, read again only when the file changed; null when it is gone. */
  private footer(path: string): Footer | null {
    const known = this.footers.get(path);
    if (known && known.key === statKey(path)) return known;
    const fd = openOrNull(path);
    if (fd === null) return null;
    try {
      const size = fs.fstatSync(fd).size;
      const { meta } = footerOf(path, size, (length, position) => readAt(fd, length, position));
      const kv = new Map((meta.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
      const f = { path, key: fdKey(fd), meta, kv };
      this.footersRead++;
      this.footers.set(path, f);
      return f;
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Top-level columns of a file but `skip` (a nested column's children follow it). */
export function topColumns(meta: FileMetaData, skip: Set<string>): string[] {
  const columns: string[] = [];
  for (let i = 1, nested = 0; i < meta.schema.length; i++) {
    const e = meta.schema[i]!;
    if (nested > 0) {
      nested += (e.num_children ?? 0) - 1;
      continue;
    }
    if (e.num_children) nested = e.num_children;
    if (!skip.has(e.name) && !e.num_children) columns.push(e.name);
  }
  return columns;
}

/** Opens a regular file; null when it is missing or not one (a FIFO is never opened). */
function openOrNull(path: string): number | null {
  try {
    return openRegularFile(path);
  } catch (err) {
    if (err instanceof PathKindError) return null;
    throw err;
  }
}

function statKey(path: string): string | null {
  try {
    return fileKey(fs.statSync(path));
  } catch {
    return null;
  }
}

const fdKey = (fd: number) => fileKey(fs.fstatSync(fd));

/** Reads byte ranges of an open file (it stays the same inode while a fold renames over it). */
function fileBuffer(fd: number): AsyncBuffer {
  const size = fs.fstatSync(fd).size;
  return {
    byteLength: size,
    slice(start: number, end = size) {
      const buf = readAt(fd, end - start, start);
      if (buf.length < end - start) throw new Error("the file ended early");
      return buf.buffer as ArrayBuffer;
    },
  };
}
