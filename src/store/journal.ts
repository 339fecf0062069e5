// Append-only journal beside a Parquet trace: the rows not yet folded into the file.
//
// Binary, one entry per write: "SYSMON-JOURNAL-2\n", then entries of
//   u32le length, u32le CRC-32 of the payload, payload (zstd-compressed JSON).
// The first entry is the header (it names the trace); each later one is a batch of rows,
// {"columns"?: names, "rows": [[seq, ...values], ...]}, the names carried over from the
// entry before when absent. A torn or corrupt entry ends the journal: it was never written.
// Journals of sysmon before this format (one "<crc32 hex> <json>" line per entry) are read
// too, so a trace traced by an older version is recovered.
import type { Row, Value } from "../schema/columns.ts";
import zlib from "node:zlib";
import fs from "node:fs";
import { removeQuietly, replaceAtomically, writeAll } from "./atomic.ts";
import { openRegularFile, PathKindError, readAt } from "./paths.ts";

export interface JournalHeader {
  sysmon_journal: 1;
  trace_id: string;
  utc: boolean;
  sample_interval_s: number;
}

export interface JournalRow {
  seq: number;
  row: Row;
}

export interface JournalContents {
  header: JournalHeader | null;
  rows: JournalRow[];
  /** Bytes after the last good entry (a write cut short by a crash). */
  tornBytes: number;
}

export const journalPath = (tracePath: string) => `${tracePath}.journal`;

const MAGIC = new TextEncoder().encode("SYSMON-JOURNAL-2\n");
/** An entry longer than this is a corrupt length, not an entry. */
const MAX_ENTRY = 256 << 20;

export class Journal {
  readonly path: string;
  private size = 0;
  private names: string[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Starts a fresh journal holding only its header (atomically). */
  reset(header: JournalHeader) {
    const head = entry(header);
    const bytes = new Uint8Array(MAGIC.length + head.length);
    bytes.set(MAGIC);
    bytes.set(head, MAGIC.length);
    replaceAtomically(this.path, bytes);
    this.size = bytes.length;
    this.names = [];
  }

  /** Appends rows as one entry and syncs it to disk. A failed append leaves nothing behind. */
  append(rows: JournalRow[]) {
    if (rows.length === 0) return;
    if (this.size === 0) throw new Error(`journal ${this.path} appended to before reset()`);
    // Every row carries every column the batch has; a row without one holds null.
    const index = new Map<string, number>();
    for (const { row } of rows) for (const k in row) if (!index.has(k)) index.set(k, index.size);
    const names = [...index.keys()];
    const out = rows.map(({ seq, row }) => {
      const values: Value[] = [seq];
      for (const k of names) values.push(row[k] ?? null);
      return values;
    });
    const batch = sameNames(names, this.names) ? { rows: out } : { columns: names, rows: out };
    const bytes = entry(batch);
    const f = Deno.openSync(this.path, { write: true });
    try {
      // Drop whatever an earlier failed append left past the last good entry.
      f.truncateSync(this.size);
      f.seekSync(this.size, Deno.SeekMode.Start);
      writeAll(f, bytes);
      f.syncDataSync();
    } catch (err) {
      // A cut-short append (disk full) gives its space back at once: the bytes it left
      // would fill the disk that a fold needs.
      try {
        f.truncateSync(this.size);
      } catch { /* the next append truncates again */ }
      throw err;
    } finally {
      f.close();
    }
    this.size += bytes.length;
    this.names = names;
  }

  remove() {
    removeQuietly(this.path);
  }
}

/** Reads every intact entry of a journal; null when there is none. */
export function readJournal(path: string): JournalContents | null {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (startsWith(bytes, MAGIC)) return readEntries(bytes);
  return readLines(bytes);
}

/**
 * Reads a journal as it grows, by offset: each read() parses only the bytes appended since
 * the last one. An entry not yet whole is left for the next read (the writer may be in the
 * middle of it, or will truncate it). A journal replaced (a fold starts it over) or cut
 * shorter is read again from its start, and `restarted` says so.
 */
export class JournalTail {
  readonly path: string;
  header: JournalHeader | null = null;
  /** Inode and birth time: a journal renamed into place is another file. */
  private id = "";
  private pos = 0;
  private names: string[] = [];
  /**
   * The last whole entry's 8-byte head and where it is: read again before each read, it tells
   * a journal replaced on a reused inode (with a birth time the file system does not keep).
   */
  private mark: { at: number; head: Uint8Array } | null = null;
  /** The older line format is read whole each time, as a journal that started over. */
  private lines = false;
  /** Bytes read, in all: what following costs. */
  bytesRead = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads the journal from its start on the next read (a reader that lost what it read). */
  rewind() {
    this.restart("");
  }

  read(): { rows: JournalRow[]; restarted: boolean } {
    let fd: number;
    try {
      fd = openRegularFile(this.path, "a journal");
    } catch (err) {
      if (!(err instanceof PathKindError)) throw err;
      const restarted = this.pos > 0 || this.lines;
      this.restart("");
      return { rows: [], restarted }; // none yet, or folded away
    }
    try {
      const st = fs.fstatSync(fd);
      const id = `${st.ino}:${st.birthtimeMs}`;
      const restarted = this.lines || id !== this.id || st.size < this.pos || !this.marked(fd);
      if (restarted) this.restart(id);
      if (st.size === this.pos) return { rows: [], restarted };
      const bytes = readAt(fd, st.size - this.pos, this.pos);
      this.bytesRead += bytes.length;
      return { rows: this.parse(bytes), restarted };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Whether the last entry read is still where it was, as it was. */
  private marked(fd: number): boolean {
    if (this.mark === null) return true;
    const head = readAt(fd, 8, this.mark.at);
    return head.length === 8 && head.every((b, i) => b === this.mark!.head[i]);
  }

  private restart(id: string) {
    this.id = id;
    this.pos = 0;
    this.names = [];
    this.header = null;
    this.mark = null;
    this.lines = false;
  }

  /** Entries in `bytes` (which start at this.pos); advances past the whole ones. */
  private parse(bytes: Uint8Array): JournalRow[] {
    let at = 0;
    if (this.pos === 0) {
      if (bytes.length < MAGIC.length) return [];
      if (!startsWith(bytes, MAGIC)) {
        // The line format of sysmon before this one: read whole, every time.
        const all = readLines(bytes);
        this.header = all.header;
        this.lines = true;
        return all.rows;
      }
      at = MAGIC.length;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const rows: JournalRow[] = [];
    while (at + 8 <= bytes.length) {
      const parsed = parsePayload(bytes, view, at);
      if (parsed === null) break;
      const value = parsed.value as Record<string, unknown>;
      if ("sysmon_journal" in value) this.header = value as unknown as JournalHeader;
      else {
        if (Array.isArray(value.columns)) this.names = value.columns as string[];
        for (const values of (value.rows ?? []) as [number, ...Value[]][]) {
          rows.push(rowOf(this.names, values));
        }
      }
      this.mark = { at: this.pos + at, head: bytes.slice(at, at + 8) };
      at = parsed.end;
    }
    this.pos += at;
    return rows;
  }
}

function readEntries(bytes: Uint8Array): JournalContents {
  const out: JournalContents = { header: null, rows: [], tornBytes: 0 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let names: string[] = [];
  let pos = MAGIC.length;
  while (pos < bytes.length) {
    const parsed = pos + 8 <= bytes.length ? parsePayload(bytes, view, pos) : null;
    if (parsed === null) {
      out.tornBytes = bytes.length - pos;
      break;
    }
    const value = parsed.value as Record<string, unknown>;
    if ("sysmon_journal" in value) out.header = value as unknown as JournalHeader;
    else {
      if (Array.isArray(value.columns)) names = value.columns as string[];
      for (const values of (value.rows ?? []) as [number, ...Value[]][]) {
        out.rows.push(rowOf(names, values));
      }
    }
    pos = parsed.end;
  }
  return out;
}

function parsePayload(
  bytes: Uint8Array,
  view: DataView,
  pos: number,
): { value: unknown; end: number } | null {
  const length = view.getUint32(pos, true);
  const sum = view.getUint32(pos + 4, true);
  const end = pos + 8 + length;
  if (length > MAX_ENTRY || end > bytes.length) return null;
  const payload = bytes.subarray(pos + 8, end);
  if (crc32(payload) !== sum) return null;
  try {
    const value = JSON.parse(decoder.decode(zstdDecompressSync(payload)));
    return value !== null && typeof value === "object" ? { value, end } : null;
  } catch {
    return null; // a checksum collision on garbage: treat as torn
  }
}

/** The line format of sysmon before the binary journal. */
function readLines(bytes: Uint8Array): JournalContents {
  const out: JournalContents = { header: null, rows: [], tornBytes: 0 };
  let names: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(10, pos);
    const parsed = nl < 0 ? null : parseLine(bytes.subarray(pos, nl));
    if (parsed === null) {
      out.tornBytes = bytes.length - pos;
      break;
    }
    if (Array.isArray(parsed)) out.rows.push(rowOf(names, parsed as [number, ...Value[]]));
    else if ("columns" in parsed) names = parsed.columns as string[];
    else if ("sysmon_journal" in parsed) out.header = parsed as unknown as JournalHeader;
    pos = nl + 1;
  }
  return out;
}

function rowOf(names: string[], [seq, ...values]: [number, ...Value[]]): JournalRow {
  const row: Row = {};
  names.forEach((n, i) => (row[n] = values[i] ?? null));
  return { seq, row };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// zstd is in Deno's node:zlib; older @types/node (pulled in by DuckDB's deps) lacks it.
const { zstdCompressSync, zstdDecompressSync } = zlib as unknown as {
  zstdCompressSync(b: Uint8Array, o: { pledgedSrcSize: number }): Uint8Array;
  zstdDecompressSync(b: Uint8Array): Uint8Array;
};

/** One entry: length, CRC-32 and the compressed JSON of `value`. */
function entry(value: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(value));
  const payload = zstdCompressSync(json, { pledgedSrcSize: json.length });
  const bytes = new Uint8Array(8 + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  bytes.set(payload, 8);
  return bytes;
}

function parseLine(line: Uint8Array): unknown[] | Record<string, unknown> | null {
  const text = decoder.decode(line);
  const sp = text.indexOf(" ");
  if (sp !== 8) return null;
  const json = text.slice(9);
  if (crc32hex(json) !== text.slice(0, 8)) return null;
  try {
    return JSON.parse(json);
  } catch {
    return null; // a checksum collision on garbage: treat as torn
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// zlib.crc32 (Node 22.2+, Deno 2.x) is 200x a JS loop; the loop stays for a Deno without it.
const zlibCrc32 = (zlib as unknown as { crc32?: (data: string | Uint8Array) => number }).crc32;

/** CRC-32 (IEEE) of bytes, or of a string's UTF-8 bytes. */
export function crc32(data: string | Uint8Array): number {
  return (typeof zlibCrc32 === "function" ? zlibCrc32(data) : crc32Loop(data)) >>> 0;
}

/** CRC-32 (IEEE) of a string's UTF-8 bytes, as 8 hex digits. */
export function crc32hex(text: string): string {
  return crc32(text).toString(16).padStart(8, "0");
}

let table: Uint32Array | null = null;

/** The same sum in JS (exported for the tests). */
export function crc32Loop(data: string | Uint8Array): number {
  if (table === null) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  for (const b of bytes) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
  return c ^ 0xffffffff;
}
