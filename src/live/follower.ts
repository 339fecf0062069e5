// Following a trace that another `sysmon run` is writing: its new rows, from its Parquet files
// (the trace and its segments, numbered across them) and its journal, as they are written.
// The journal is read by offset (only the bytes appended since the last look), the files only
// for the rows not seen yet (followed_files.ts).
import { journalPath, type JournalRow, JournalTail } from "../store/journal.ts";
import { instant } from "../query/zone.ts";
import { FilesMoved, FollowedFiles, topColumns } from "./followed_files.ts";

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
 * its files and its journal and passes the rows it has not seen to the listeners. It starts at
 * the files' end: rows already in a file are not replayed; rows only in the journal are.
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
  /** The trace's files, each footer read once per version. */
  readonly files: FollowedFiles;
  /** One past the highest sequence number in the journal as read so far. */
  private journalTop = 0;

  constructor(path: string, opts: { intervalMs?: number } = {}) {
    this.path = path;
    this.journal = new JournalTail(journalPath(path));
    this.files = new FollowedFiles(path);
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
    const stamp = `${this.files.stamp()}|${statStamp(journalPath(this.path))}`;
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    // The journal before the files: a writer folds into a file first and starts the journal
    // over after, so a fold between the two reads cannot hide rows or show them twice.
    const tail = this.journal.read();
    if (tail.restarted) this.journalTop = 0;
    for (const r of tail.rows) this.journalTop = Math.max(this.journalTop, r.seq + 1);
    for (let attempt = 1;; attempt++) {
      try {
        return await this.pass(tail.rows, attempt === 3);
      } catch (err) {
        // A file renamed over or deleted while read (a merge): the files are listed again.
        if (!(err instanceof FilesMoved) || attempt === 3) throw err;
      }
    }
  }

  /**
   * Passes on the rows not seen yet: from the files that hold them, then from the journal.
   * Rows no file holds between two that do (a piece deleted after the listing) are read
   * again from a new listing; on the last try (`lenient`) they are passed over.
   */
  private async pass(journal: JournalRow[], lenient: boolean) {
    const files = this.files.list();
    const fileRows = Math.max(0, ...files.map((f) => f.end));
    const kv = files.at(-1)?.kv ?? new Map<string, string>();
    const utc = kv.get("sysmon.timezone") === "UTC";
    const zone = kv.get("sysmon.tz_name") ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    const journalRows = journal.filter((r) => r.seq >= fileRows);
    const total = Math.max(fileRows, this.journalTop);
    if (this.seen < 0 || total < this.seen) {
      // First look, or the trace started again: begin at the files' end, and pass on the
      // journal's rows (written, not yet folded in), so that every written sample is seen.
      this.seen = fileRows;
      if (journalRows.length === 0) return;
    }
    const fresh: FollowedRow[] = [];
    let at = this.seen;
    for (const f of files) {
      if (f.end <= at) continue;
      if (f.first > at) {
        if (!lenient) throw new FilesMoved(`rows ${at}..${f.first} are in no file`);
        at = f.first;
      }
      const rows = await this.files.rows(f, at, f.end, topColumns(f.meta, NOT_FOLLOWED));
      for (const r of rows) fresh.push({ at: instant(r.timestamp, utc, zone), row: numeric(r) });
      at = f.end;
    }
    for (const j of journalRows.sort((a, b) => a.seq - b.seq)) {
      if (j.seq < this.seen) continue;
      const row = numeric(j.row);
      for (const k of NOT_FOLLOWED) delete row[k];
      fresh.push({ at: instant(j.row.timestamp, utc, zone), row });
    }
    this.seen = total;
    for (const r of fresh) for (const fn of this.listeners) fn(r);
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

function numeric(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in r) {
    const v = r[k];
    out[k] = typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}
