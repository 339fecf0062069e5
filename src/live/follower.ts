// Following a trace that another `sysmon run` is writing: its new rows, from the Parquet
// file and its journal, as they are written. The journal is read by offset (only the bytes
// appended since the last look), the file only from the rows not seen yet.
import fs from "node:fs";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { journalPath, JournalTail } from "../store/journal.ts";
import { instant } from "../query/zone.ts";
import { openRegularFile, PathKindError, readAt } from "../store/paths.ts";

/** A row of a followed trace: its instant and its values (numbers; bigints converted). */
export interface FollowedRow {
  at: number;
  row: Record<string, unknown>;
}

/**
 * Columns a follower reads from the Parquet file: every one but the per-process lists (watch
 * points and the live charts use them; the lists are large and neither needs them).
 */
const NOT_FOLLOWED = new Set(["processes"]);

/**
 * Follows a Parquet trace that another `sysmon run` is writing: every `intervalMs` it looks at
 * the file and its journal and passes the rows it has not seen to the listeners. It starts at
 * the file's end: rows already in the file are not replayed; rows only in the journal are.
 */
export class FileFollower {
  readonly path: string;
  private readonly intervalMs: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private seen = -1;
  private stamp = "";
  private listeners = new Set<(r: FollowedRow) => void>();
  private busy = false;
  /** The last failure to read the file (for the status line), or null. */
  problem: string | null = null;

  /** The journal beside the file, read by offset. */
  readonly journal: JournalTail;
  /** One past the highest sequence number in the journal as read so far. */
  private journalTop = 0;

  constructor(path: string, opts: { intervalMs?: number } = {}) {
    this.path = path;
    this.journal = new JournalTail(journalPath(path));
    this.intervalMs = opts.intervalMs ?? 2000;
  }

  subscribe(fn: (r: FollowedRow) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts following from the rows there now. */
  async start() {
    if (this.timer !== null) return;
    this.seen = -1;
    this.stamp = "";
    this.journal.rewind();
    this.journalTop = 0;
    await this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the file and its journal (also what the timer runs). */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.look();
      this.problem = null;
    } catch (err) {
      // What the journal gave this look is lost with it: the next one reads it all again
      // (rows already passed on are skipped by their sequence number).
      this.journal.rewind();
      this.journalTop = 0;
      this.stamp = "";
      this.problem = `cannot follow ${this.path}: ${(err as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  private async look() {
    const stamp = [this.path, journalPath(this.path)].map(statStamp).join("|");
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    // The journal before the file: a writer folds into the file first and starts the journal
    // over after, so a fold between the two reads cannot hide rows or show them twice.
    const tail = this.journal.read();
    if (tail.restarted) this.journalTop = 0;
    for (const r of tail.rows) this.journalTop = Math.max(this.journalTop, r.seq + 1);
    let meta: FileMetaData | null = null;
    let fd: number | null = null;
    try {
      fd = openRegularFile(this.path); // a FIFO put in its place is never opened
    } catch (err) {
      // Missing, a link loop, no permission: nothing to read; the page's source says why.
      if (!(err instanceof PathKindError)) throw err;
    }
    try {
      const buffer = fd === null ? null : fileBuffer(fd);
      if (buffer) meta = parquetMetadata(await buffer.slice(...(await footerRange(buffer))));
      const fileRows = meta ? Number(meta.num_rows) : 0;
      const kv = new Map((meta?.key_value_metadata ?? []).map((e) => [e.key, e.value ?? ""]));
      const utc = kv.get("sysmon.timezone") === "UTC";
      const zone = kv.get("sysmon.tz_name") ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      const journalRows = tail.rows.filter((r) => r.seq >= fileRows);
      const total = Math.max(fileRows, this.journalTop);
      if (this.seen < 0 || total < this.seen) {
        // First look, or the file started again: begin at the file's end, and pass on the
        // journal's rows (written, not yet folded in), so that every written sample is seen.
        this.seen = fileRows;
        if (journalRows.length === 0) return;
      }
      const fresh: FollowedRow[] = [];
      if (buffer && meta && fileRows > this.seen) {
        // Top-level columns only (a nested column's children follow it in the schema).
        const columns: string[] = [];
        for (let i = 1, skip = 0; i < meta.schema.length; i++) {
          const e = meta.schema[i]!;
          if (skip > 0) {
            skip += (e.num_children ?? 0) - 1;
            continue;
          }
          if (e.num_children) skip = e.num_children;
          if (!NOT_FOLLOWED.has(e.name) && !e.num_children) columns.push(e.name);
        }
        const rows = await parquetReadObjects({
          file: buffer,
          metadata: meta,
          columns,
          rowStart: this.seen,
          rowEnd: fileRows,
          compressors,
        });
        for (const r of rows) {
          fresh.push({ at: instant(r.timestamp, utc, zone), row: numeric(r) });
        }
      }
      for (const j of journalRows.sort((a, b) => a.seq - b.seq)) {
        if (j.seq < this.seen) continue;
        const row = numeric(j.row);
        for (const k of NOT_FOLLOWED) delete row[k];
        fresh.push({ at: instant(j.row.timestamp, utc, zone), row });
      }
      this.seen = total;
      for (const r of fresh) for (const fn of this.listeners) fn(r);
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  }
}

function statStamp(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
  } catch {
    return "-";
  }
}

/** Reads byte ranges of an open file (it stays the same inode while a fold renames over it). */
function fileBuffer(fd: number): AsyncBuffer {
  const size = fs.fstatSync(fd).size;
  return {
    byteLength: size,
    slice(start: number, end = size) {
      const buf = readAt(fd, end - start, start);
      if (buf.length < end - start) throw new Error("the file ended early");
      return buf.buffer;
    },
  };
}

async function footerRange(b: AsyncBuffer): Promise<[number, number]> {
  if (b.byteLength < 12) throw new Error("not a Parquet file");
  const tail = new DataView(await b.slice(b.byteLength - 8));
  const len = tail.getUint32(0, true);
  return [Math.max(0, b.byteLength - 8 - len), b.byteLength];
}

function numeric(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in r) {
    const v = r[k];
    out[k] = typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}
