// CSV output (`--output x.csv`): rows appended and fsynced every write interval.
// A new column rewrites the file (atomically) with the wider header; metadata goes
// to a sidecar `<file>.meta.json`.
import { type ColumnDef, columnDef, type Row, sortColumns, type Value } from "../schema/columns.ts";
import { replaceAtomically, writeAll } from "./atomic.ts";
import { newTraceId, traceMetadata } from "./metadata.ts";
import { OutputError } from "./parquet_sink.ts";
import { jsonLine } from "../schema/safe_text.ts";
import { describeWriteError, fileSize, type TraceSink, type WriteReport } from "./sink.ts";

export interface CsvSinkOptions {
  path: string;
  utc: boolean;
  sampleInterval: number;
  maxBufferedRows?: number;
}

export class CsvSink implements TraceSink {
  readonly path: string;
  readonly notices: string[] = [];
  private readonly opts: CsvSinkOptions;
  private columns: ColumnDef[] = [];
  private buffer: Row[] = [];
  private rows = 0;
  private size = 0;
  private needsRewrite = false;
  private extra: Record<string, string> = {};
  private readonly traceId = newTraceId();
  private dropped = 0;

  private constructor(opts: CsvSinkOptions) {
    this.opts = opts;
    this.path = opts.path;
  }

  /** Appends to a CSV whose first column is `timestamp`; refuses any other file. */
  static open(opts: CsvSinkOptions): CsvSink {
    const sink = new CsvSink(opts);
    let text: string | null = null;
    try {
      text = Deno.readTextFileSync(opts.path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (text !== null && text.length > 0) {
      const header = text.slice(0, text.indexOf("\n")).split(",");
      if (header[0] !== "timestamp") {
        throw new OutputError(
          `${opts.path} exists and is not a sysmon CSV (first column '${header[0]}', not ` +
            `'timestamp'); choose another --output or move it away`,
        );
      }
      sink.columns = header.map(defFor);
      // A line cut short by a crash is dropped; everything before it is kept.
      const end = text.lastIndexOf("\n") + 1;
      const keep = new TextEncoder().encode(text.slice(0, end)).length;
      if (keep < new TextEncoder().encode(text).length) Deno.truncateSync(opts.path, keep);
      sink.size = keep;
      sink.rows = text.slice(0, end).split("\n").length - 2;
      sink.notices.push(`appending to ${opts.path} (${sink.rows} rows)`);
    }
    return sink;
  }

  add(row: Row) {
    this.buffer.push(row);
  }

  annotate(extra: Record<string, string>) {
    this.extra = { ...this.extra, ...extra };
  }

  write(): WriteReport {
    const known = new Set(this.columns.map((c) => c.name));
    const fresh = new Set<string>();
    for (const row of this.buffer) {
      for (const k in row) if (!known.has(k)) fresh.add(k);
    }
    if (fresh.size > 0) {
      this.columns = sortColumns([...this.columns, ...[...fresh].map(defFor)]);
      this.needsRewrite = this.size > 0;
    }
    try {
      if (this.needsRewrite) this.rewrite();
      else this.append();
      this.rows += this.buffer.length;
      this.buffer = [];
      this.writeSidecar();
      return { rowsWritten: this.rows, fileBytes: fileSize(this.path), error: null };
    } catch (err) {
      const max = this.opts.maxBufferedRows ?? 20_000;
      if (this.buffer.length > max) {
        this.dropped += this.buffer.length - max;
        this.buffer = this.buffer.slice(-max);
      }
      const drops = this.dropped ? `; ${this.dropped} oldest samples dropped to bound memory` : "";
      return {
        rowsWritten: this.rows,
        fileBytes: fileSize(this.path),
        error: describeWriteError(this.path, err) + drops,
      };
    }
  }

  close(): WriteReport {
    return this.write();
  }

  private append() {
    let text = this.size === 0 ? this.headerLine() : "";
    for (const row of this.buffer) text += this.line(row);
    const bytes = new TextEncoder().encode(text);
    const f = Deno.openSync(this.path, { write: true, create: true });
    try {
      f.truncateSync(this.size); // drop what an earlier failed append left
      f.seekSync(this.size, Deno.SeekMode.Start);
      writeAll(f, bytes);
      f.syncDataSync();
    } finally {
      f.close();
    }
    this.size += bytes.length;
  }

  /** Rewrites the file with the current header: old rows get empty new columns. */
  private rewrite() {
    const old = Deno.readTextFileSync(this.path).split("\n");
    const names = (old[0] ?? "").split(",");
    let text = this.headerLine();
    for (const line of old.slice(1)) {
      if (line === "") continue;
      const cells = splitCsvLine(line);
      const byName = new Map(names.map((n, i) => [n, cells[i] ?? ""]));
      text += this.columns.map((c) => quote(byName.get(c.name) ?? "")).join(",") + "\n";
    }
    for (const row of this.buffer) text += this.line(row);
    const bytes = new TextEncoder().encode(text);
    replaceAtomically(this.path, bytes);
    this.size = bytes.length;
    this.needsRewrite = false;
  }

  private headerLine(): string {
    return this.columns.map((c) => c.name).join(",") + "\n";
  }

  private line(row: Row): string {
    return this.columns.map((c) => cell(c, row[c.name] ?? null)).join(",") + "\n";
  }

  private writeSidecar() {
    const meta = traceMetadata(
      { utc: this.opts.utc, sampleInterval: this.opts.sampleInterval, traceId: this.traceId },
      this.columns,
      this.extra,
    );
    const text = JSON.stringify(meta, null, 2) + "\n";
    const path = `${this.path}.meta.json`;
    try {
      if (Deno.readTextFileSync(path) === text) return;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    replaceAtomically(path, new TextEncoder().encode(text));
  }
}

function defFor(name: string): ColumnDef {
  return columnDef(name) ?? { name, kind: "double", unit: "", help: "" };
}

/** Naive wall-clock microseconds as "YYYY-MM-DD HH:MM:SS.ffffff". */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-11-25T19:47:39.606Z
  const frac = String(Math.round(us - ms * 1000)).padStart(3, "0");
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${frac}`;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * One CSV cell. The `processes` list is one cell of JSON text (an array of objects with the
 * fields of PROCESS_FIELDS), its strings escaped so that the cell stays on one line.
 */
function cell(def: ColumnDef, v: Value): string {
  if (v === null) return "";
  if (def.kind === "processes") return Array.isArray(v) ? quote(jsonLine(v)) : "";
  if (def.kind === "timestamp" && typeof v === "number") return formatMicros(v);
  // Control characters (a newline in a process name) are escaped, never written raw.
  return quote(
    String(v).replace(
      CONTROL,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    ),
  );
}

/** RFC 4180 quoting, where a cell needs it. */
function quote(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Splits one CSV line (RFC 4180 quoting; no embedded newlines in sysmon's cells). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") out.push(cur), (cur = "");
    else cur += ch;
  }
  out.push(cur);
  return out;
}
