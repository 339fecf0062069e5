// Events (annotations) of a trace, kept beside it in `<file>.events.csv` so they travel with it.
//
// The file is what import reads and export writes: a header `event,timestamp,kind`, then one
// row per event with the time as an ISO 8601 UTC instant and kind `manual` or `auto` (a watch
// point's crossing). It is replaced atomically on every change.
import { isRefusal, Refusal } from "../schema/refusal.ts";
import { serverZone } from "../query/zone.ts";
import { crc32hex } from "../store/journal.ts";
import { removeQuietly, replaceAtomically } from "../store/atomic.ts";
import type { EventKind, LineProblem, TraceEvent } from "../views/model_types.ts";
export type { EventKind, LineProblem, TraceEvent } from "../views/model_types.ts";

export type NewEvent = Omit<TraceEvent, "id">;

export interface ParsedEvents {
  events: NewEvent[];
  errors: LineProblem[];
  /** Rows read, but with a choice made (an ambiguous local time). */
  warnings: LineProblem[];
  header: boolean;
}

/** A request the store refuses (bad name, bad time, store unreadable). */

export const MAX_NAME_LENGTH = 200;

export const eventsPath = (dataFile: string) => `${dataFile}.events.csv`;

// ---------------------------------------------------------------- times

const TIME =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?(?:\[([^\]]+)\])?$/i;

/** Epoch ms written as digits (a fraction or sign is read, to be refused with a reason). */
const EPOCH = /^-?\d+(?:\.\d+)?$/;

/** The last millisecond of the year 9999: later times are mistakes. */
const MAX_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** 1973-03-03 in epoch ms: smaller numbers are almost always epoch seconds or a compact date. */
const MIN_EPOCH_MS = 1e11;

/** A time that was read, and what the reader had to choose (if anything). */
export interface ParsedTime {
  at: number;
  warning: string | null;
}

/** True for "UTC" and any IANA zone this runtime knows. */
export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone naive times are read in: the one given, or this machine's for "local" or none. */
export function resolveZone(zone: string | null | undefined): string {
  const z = (zone ?? "").trim();
  if (z === "" || z.toLowerCase() === "local") return serverZone();
  if (!isValidZone(z)) {
    throw new Refusal("bad_input", `unknown time zone '${z}' (use UTC or an IANA name)`);
  }
  return z;
}

/** Checks epoch ms (`text`: how the caller wrote it): a whole number from 1973 to 9999. */
export function epochMs(n: number, text = String(n)): number {
  if (!Number.isFinite(n)) throw new Refusal("bad_input", `${text} is not a finite number`);
  if (!Number.isInteger(n)) {
    throw new Refusal("bad_input", `${text} is not a whole number of milliseconds since 1970`);
  }
  inRange(n, text);
  if (n < MIN_EPOCH_MS) {
    throw new Refusal(
      "bad_input",
      `${text} is too small for epoch milliseconds (it would be ` +
        `${new Date(n).toISOString()}); if it is seconds, send ${n * 1000}`,
    );
  }
  return n;
}

function inRange(at: number, text: string): number {
  if (at < 0) throw new Refusal("bad_input", `'${text}' is before 1970`);
  if (at > MAX_AT) throw new Refusal("bad_input", `'${text}' is after the year 9999`);
  return at;
}

/**
 * An event time as JSON or a form sends it: epoch ms (a number, or text of digits) or
 * ISO 8601 text (see parseTime). `label` names the field in the error.
 */
export function eventTime(value: unknown, zone: string, label = "the time"): ParsedTime {
  if (typeof value === "number") return { at: epochMs(value), warning: null };
  if (typeof value === "string") return parseTime(value, zone);
  const what = Array.isArray(value)
    ? "a list"
    : typeof value === "object" && value !== null
    ? "an object"
    : String(value);
  throw new Refusal(
    "bad_input",
    `${label} must be epoch milliseconds (a number) or ISO 8601 text, not ${what}`,
  );
}

/**
 * Reads epoch ms written as digits (`1764950000000`), or an ISO 8601-like time:
 * `2024-05-01T14:30[:SS[.fff]]` (T or space, - or /), a date alone (midnight), with `Z`,
 * `UTC`, `±HH[:MM]` or `[Zone/Name]`. A time without a zone is read in `zone`. A local time
 * that does not exist (clocks moved forward) is an error; one that occurs twice (clocks moved
 * back) is read as the first, with a warning. Times before 1970 or after 9999 are refused.
 */
export function parseTime(text: string, zone: string): ParsedTime {
  const t = text.trim();
  if (EPOCH.test(t)) return { at: epochMs(Number(t), t), warning: null };
  const m = TIME.exec(t);
  if (!m) {
    throw new Refusal(
      "bad_input",
      `'${text}' is not a date and time (use epoch milliseconds or ISO 8601, e.g. ` +
        `1764950000000, 2024-05-01T14:30:00 or 2024-05-01T14:30:00Z)`,
    );
  }
  const [, y, mo, d, h, mi, s, frac, offset, bracket] = m;
  let pdt: Temporal.PlainDateTime;
  try {
    pdt = Temporal.PlainDateTime.from({
      year: Number(y),
      month: Number(mo),
      day: Number(d),
      hour: Number(h ?? 0),
      minute: Number(mi ?? 0),
      second: Number(s ?? 0),
      millisecond: Number((frac ?? "").padEnd(3, "0").slice(0, 3)),
    }, { overflow: "reject" });
  } catch {
    throw new Refusal("bad_input", `'${text}' is not a valid date and time (no such day or hour)`);
  }
  if (offset) {
    const o = offset.toUpperCase();
    const minutes = o === "Z" || o === "UTC" || o === "GMT" ? 0 : offsetMinutes(o);
    if (minutes === null) throw new Refusal("bad_input", `'${text}': bad UTC offset '${offset}'`);
    const at = pdt.toZonedDateTime("UTC").epochMilliseconds - minutes * 60_000;
    return { at: inRange(at, text), warning: null };
  }
  const z = bracket ?? zone;
  if (!isValidZone(z)) throw new Refusal("bad_input", `'${text}': unknown time zone '${z}'`);
  const earlier = pdt.toZonedDateTime(z, { disambiguation: "earlier" });
  if (!earlier.toPlainDateTime().equals(pdt)) {
    throw new Refusal(
      "bad_input",
      `'${text}' does not exist in ${z} (the clocks moved forward over it); give an offset`,
    );
  }
  const later = pdt.toZonedDateTime(z, { disambiguation: "later" });
  const warning = later.epochMilliseconds === earlier.epochMilliseconds ? null : (
    `'${text}' happens twice in ${z} (the clocks moved back); read as the first, ` +
    `${earlier.toString({ timeZoneName: "never" })}`
  );
  return { at: inRange(earlier.epochMilliseconds, text), warning };
}

function offsetMinutes(o: string): number | null {
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(o);
  if (!m) return null;
  const h = Number(m[2]);
  const mm = Number(m[3] ?? 0);
  if (h > 18 || mm > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (h * 60 + mm);
}

/** An event name as stored: trimmed, not empty, no control characters, not too long. */
export function cleanName(name: unknown): string {
  if (typeof name !== "string") throw new Refusal("bad_input", "the event needs a name (text)");
  const n = name.trim();
  if (n === "") throw new Refusal("bad_input", "the event name is empty");
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(n)) {
    throw new Refusal("bad_input", "the event name has control characters");
  }
  if (n.length > MAX_NAME_LENGTH) {
    throw new Refusal("bad_input", `the event name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  return n;
}

// ---------------------------------------------------------------- CSV

/** RFC 4180 rows, each with the line it starts on; an unclosed quote is reported. */
export function parseCsvRows(
  text: string,
): { rows: { line: number; fields: string[] }[]; error: LineProblem | null } {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let start = 1;
  let i = 0;
  let quoted = false;
  let quoteLine = 0;
  const endRow = () => {
    fields.push(field);
    rows.push({ line: start, fields });
    fields = [];
    field = "";
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field.trim() === "") {
      quoted = true;
      quoteLine = line;
      field = "";
    } else if (c === ",") {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      endRow();
      if (c === "\r" && text[i + 1] === "\n") i++;
      line++;
      start = line;
    } else field += c;
    i++;
  }
  if (quoted) {
    return { rows, error: { line: quoteLine, message: "a quoted field is never closed" } };
  }
  if (field !== "" || fields.length > 0) endRow();
  return { rows, error: null };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
}

const NAME_LABELS = new Set(["event", "events", "name", "label", "annotation", "title"]);
const TIME_LABELS = new Set(["timestamp", "time", "datetime", "date", "when", "at"]);
const KIND_LABELS = new Set(["kind", "type"]);

/**
 * Reads `event,timestamp[,kind]` rows. A header row is recognised by its labels (in any
 * order); naive times are read in `zone`. Every bad row is reported with its line number.
 */
export function parseEventsCsv(text: string, zone: string): ParsedEvents {
  const out: ParsedEvents = { events: [], errors: [], warnings: [], header: false };
  const { rows, error } = parseCsvRows(text.replace(/^\uFEFF/, ""));
  let cols = { name: 0, time: 1, kind: 2, count: 0 };
  let first = true;
  for (const { line, fields } of rows) {
    if (fields.every((f) => f.trim() === "")) continue; // blank line
    const labels = fields.map((f) => f.trim().toLowerCase());
    if (first) {
      first = false;
      const looksLikeHeader = labels.some((l) => NAME_LABELS.has(l) || TIME_LABELS.has(l)) &&
        !fields.some((f) => TIME.test(f.trim()) || EPOCH.test(f.trim()));
      if (looksLikeHeader) {
        out.header = true;
        const unknown = labels.filter((l) =>
          !NAME_LABELS.has(l) && !TIME_LABELS.has(l) && !KIND_LABELS.has(l)
        );
        const name = labels.findIndex((l) => NAME_LABELS.has(l));
        const time = labels.findIndex((l) => TIME_LABELS.has(l));
        if (unknown.length > 0 || name < 0 || time < 0) {
          out.errors.push({
            line,
            message: `header '${fields.join(",")}' is not event,timestamp[,kind]` +
              (unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""),
          });
          return out;
        }
        cols = {
          name,
          time,
          kind: labels.findIndex((l) => KIND_LABELS.has(l)),
          count: fields.length,
        };
        continue;
      }
    }
    const expected = cols.count || "2 or 3";
    if (cols.count ? fields.length !== cols.count : fields.length !== 2 && fields.length !== 3) {
      out.errors.push({
        line,
        message: `expected ${expected} fields (event,timestamp[,kind]), found ${fields.length}`,
      });
      continue;
    }
    try {
      const name = cleanName(fields[cols.name]);
      const t = parseTime(fields[cols.time] ?? "", zone);
      const kindText = cols.kind >= 0 ? (fields[cols.kind] ?? "").trim().toLowerCase() : "";
      if (kindText !== "" && kindText !== "manual" && kindText !== "auto") {
        throw new Refusal("bad_input", `kind must be manual or auto, not '${fields[cols.kind]}'`);
      }
      out.events.push({ name, at: t.at, kind: kindText === "auto" ? "auto" : "manual" });
      if (t.warning) out.warnings.push({ line, message: t.warning });
    } catch (err) {
      if (!isRefusal(err)) throw err;
      out.errors.push({ line, message: err.message });
    }
  }
  if (error) out.errors.push(error);
  return out;
}

/** The CSV the store writes and export sends: header, then rows in time order. */
export function formatEventsCsv(events: readonly NewEvent[]): string {
  let s = "event,timestamp,kind\n";
  for (const e of events) s += `${csvField(e.name)},${new Date(e.at).toISOString()},${e.kind}\n`;
  return s;
}

// ---------------------------------------------------------------- the store

export interface ImportResult {
  added: TraceEvent[];
  errors: LineProblem[];
  warnings: LineProblem[];
}

/**
 * The events of one trace. Reads the file again when it changed on disk; refuses to write
 * when the file on disk could not be read (it would lose rows), saying which line is bad.
 */
export class EventStore {
  readonly path: string;
  private events: TraceEvent[] = [];
  private seen = "";
  /** Why the file on disk cannot be used, or null. */
  problem: string | null = null;

  constructor(path: string) {
    this.path = path;
    this.refresh();
  }

  /** The store of a trace file's events (`<file>.events.csv`). */
  static forTrace(dataFile: string): EventStore {
    return new EventStore(eventsPath(dataFile));
  }

  /** Every event, in time order. */
  list(): TraceEvent[] {
    this.refresh();
    return [...this.events];
  }

  add(e: { name: unknown; at: number; kind?: EventKind }): TraceEvent {
    if (!Number.isFinite(e.at)) throw new Refusal("bad_input", "the event time is not a number");
    const added = this.addAll([{ name: cleanName(e.name), at: e.at, kind: e.kind ?? "manual" }]);
    return added[0]!;
  }

  /** Removes one event; null when there is no such id. */
  remove(id: string): TraceEvent | null {
    this.refresh();
    const i = this.events.findIndex((e) => e.id === id);
    if (i < 0) return null;
    this.writable();
    const [gone] = this.events.splice(i, 1);
    this.save();
    return gone!;
  }

  /** Removes every event, or every event of one kind; returns how many. */
  clear(kind?: EventKind): number {
    this.refresh();
    this.writable();
    const before = this.events.length;
    this.events = kind ? this.events.filter((e) => e.kind !== kind) : [];
    const n = before - this.events.length;
    if (n > 0) this.save();
    return n;
  }

  /** Imports CSV text: all rows or, when any row is bad, none (each bad row reported). */
  importCsv(text: string, zone: string): ImportResult {
    const parsed = parseEventsCsv(text, zone);
    if (parsed.errors.length > 0) {
      return { added: [], errors: parsed.errors, warnings: parsed.warnings };
    }
    return { added: this.addAll(parsed.events), errors: [], warnings: parsed.warnings };
  }

  /** Moves the file to `dest` (the trace was archived there); this store starts empty. */
  moveTo(dest: string) {
    try {
      Deno.renameSync(this.path, dest);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    this.refresh();
  }

  exportCsv(): string {
    return formatEventsCsv(this.list());
  }

  private addAll(list: NewEvent[]): TraceEvent[] {
    this.refresh();
    this.writable();
    const all: NewEvent[] = [...this.events, ...list];
    this.events = withIds(all);
    this.save();
    // The new events are the last `list.length` objects that went in (ids are by content).
    const fresh = new Set<NewEvent>(list);
    return this.events.filter((e) => fresh.has(sourceOf.get(e)!));
  }

  private writable() {
    if (this.problem !== null) throw new Refusal("bad_input", this.problem);
  }

  private save() {
    if (this.events.length === 0) removeQuietly(this.path);
    else replaceAtomically(this.path, new TextEncoder().encode(formatEventsCsv(this.events)));
    this.seen = this.stamp();
  }

  private stamp(): string {
    try {
      const st = Deno.statSync(this.path);
      return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "none";
      return `error:${(err as Error).message}`;
    }
  }

  /** Reads the file again when it changed since this store last read or wrote it. */
  private refresh() {
    const stamp = this.stamp();
    if (stamp === this.seen) return;
    this.seen = stamp;
    this.problem = null;
    if (stamp === "none") {
      this.events = [];
      return;
    }
    if (stamp.startsWith("error:")) {
      this.events = [];
      this.problem = `${this.path} cannot be read (${stamp.slice(6)}); events are read-only`;
      return;
    }
    if (!Deno.statSync(this.path).isFile) {
      // A FIFO put there would block the read (and the server with it).
      this.events = [];
      this.problem =
        `${this.path} is not a regular file; move it (events are read-only until then)`;
      return;
    }
    const parsed = parseEventsCsv(Deno.readTextFileSync(this.path), "UTC");
    if (parsed.errors.length > 0) {
      const e = parsed.errors[0]!;
      this.problem = `${this.path} line ${e.line}: ${e.message}; fix or move the file ` +
        `(events are read-only until then)`;
    }
    this.events = withIds(parsed.events);
  }
}

/** Which input object each stored event came from (to tell the caller its new ids). */
const sourceOf = new WeakMap<TraceEvent, NewEvent>();

/** Sorts by time and gives each event its id: a hash of its content, numbered on repeats. */
function withIds(list: NewEvent[]): TraceEvent[] {
  const sorted = [...list].sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  const count = new Map<string, number>();
  return sorted.map((src) => {
    const base = crc32hex(`${src.kind}\0${src.at}\0${src.name}`);
    const n = (count.get(base) ?? 0) + 1;
    count.set(base, n);
    const e: TraceEvent = {
      id: n === 1 ? base : `${base}-${n}`,
      name: src.name,
      at: src.at,
      kind: src.kind,
    };
    sourceOf.set(e, src);
    return e;
  });
}
