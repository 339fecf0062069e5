// Append-only journal beside a Parquet trace: the rows since its last fold.
//
// One entry per line: "<crc32 hex> <json>\n". A header entry names the trace; a
// columns entry gives the names the following rows' values are in; a row entry is
// [seq, ...values]. A torn or corrupt line ends the journal: it was never written.
import type { Row, Value } from "./columns.ts";
import zlib from "node:zlib";
import { removeQuietly, replaceAtomically, writeAll } from "./atomic.ts";

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

export class Journal {
  readonly path: string;
  private size = 0;
  private names: string[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Starts a fresh journal holding only its header (atomically). */
  reset(header: JournalHeader) {
    const bytes = encoder.encode(entry(header));
    replaceAtomically(this.path, bytes);
    this.size = bytes.length;
    this.names = [];
  }

  /** Appends rows and syncs them to disk. A failed append leaves nothing behind. */
  append(rows: JournalRow[]) {
    if (rows.length === 0) return;
    let text = "";
    let names = this.names;
    for (const { seq, row } of rows) {
      const keys = Object.keys(row);
      if (!sameNames(keys, names)) {
        names = keys;
        text += entry({ columns: names });
      }
      const values: Value[] = [seq];
      for (const k of names) values.push(row[k] ?? null);
      text += entry(values);
    }
    const bytes = encoder.encode(text);
    const f = Deno.openSync(this.path, { write: true });
    try {
      // Drop whatever an earlier failed append left past the last good entry.
      f.truncateSync(this.size);
      f.seekSync(this.size, Deno.SeekMode.Start);
      writeAll(f, bytes);
      f.syncDataSync();
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
  const out: JournalContents = { header: null, rows: [], tornBytes: 0 };
  let names: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(10, pos);
    const parsed = nl < 0 ? null : parseEntry(bytes.subarray(pos, nl));
    if (parsed === null) {
      out.tornBytes = bytes.length - pos;
      break;
    }
    if (Array.isArray(parsed)) {
      const [seq, ...values] = parsed as [number, ...Value[]];
      const row: Row = {};
      names.forEach((n, i) => (row[n] = values[i] ?? null));
      out.rows.push({ seq, row });
    } else if ("columns" in parsed) names = parsed.columns as string[];
    else if ("sysmon_journal" in parsed) out.header = parsed as unknown as JournalHeader;
    pos = nl + 1;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function entry(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32hex(json)} ${json}\n`;
}

function parseEntry(line: Uint8Array): unknown[] | Record<string, unknown> | null {
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

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// zlib.crc32 (Node 22.2+, Deno 2.x) is 200x a JS loop; the loop stays for a Deno without it.
const zlibCrc32 = (zlib as unknown as { crc32?: (data: string) => number }).crc32;

/** CRC-32 (IEEE) of a string's UTF-8 bytes, as 8 hex digits. */
export function crc32hex(text: string): string {
  const c = typeof zlibCrc32 === "function" ? zlibCrc32(text) : crc32Loop(text);
  return (c >>> 0).toString(16).padStart(8, "0");
}

let table: Uint32Array | null = null;

/** The same sum in JS (exported for the tests). */
export function crc32Loop(text: string): number {
  if (table === null) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of encoder.encode(text)) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
  return c ^ 0xffffffff;
}
