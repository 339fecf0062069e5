// The events file and imports as CSV: `event,timestamp,kind[,end]` (other headers and no
// header are recognised), read all or nothing with the line of each problem. `end` is when a
// watch point's firing cleared; the column is written only when an event has one.
import { isRefusal, Refusal } from "../schema/refusal.ts";
import { EPOCH, parseTime, TIME } from "./event_time.ts";
import type { LineProblem, TraceEvent } from "../views/model_types.ts";

/** An event before the store gives it its id. */
export type NewEvent = Omit<TraceEvent, "id">;

export const MAX_NAME_LENGTH = 200;

export interface ParsedEvents {
  events: NewEvent[];
  errors: LineProblem[];
  /** Rows read, but with a choice made (an ambiguous local time). */
  warnings: LineProblem[];
  header: boolean;
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
const END_LABELS = new Set(["end", "until", "end_timestamp"]);
const KNOWN = [NAME_LABELS, TIME_LABELS, KIND_LABELS, END_LABELS];

/**
 * Reads `event,timestamp[,kind[,end]]` rows. A header row is recognised by its labels (in any
 * order); naive times are read in `zone`. Every bad row is reported with its line number.
 */
export function parseEventsCsv(text: string, zone: string): ParsedEvents {
  const out: ParsedEvents = { events: [], errors: [], warnings: [], header: false };
  const { rows, error } = parseCsvRows(text.replace(/^\uFEFF/, ""));
  let cols = { name: 0, time: 1, kind: 2, end: 3, count: 0 };
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
        const unknown = labels.filter((l) => !KNOWN.some((set) => set.has(l)));
        const name = labels.findIndex((l) => NAME_LABELS.has(l));
        const time = labels.findIndex((l) => TIME_LABELS.has(l));
        if (unknown.length > 0 || name < 0 || time < 0) {
          out.errors.push({
            line,
            message: `header '${fields.join(",")}' is not event,timestamp[,kind[,end]]` +
              (unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""),
          });
          return out;
        }
        cols = {
          name,
          time,
          kind: labels.findIndex((l) => KIND_LABELS.has(l)),
          end: labels.findIndex((l) => END_LABELS.has(l)),
          count: fields.length,
        };
        continue;
      }
    }
    const expected = cols.count || "2 to 4";
    if (cols.count ? fields.length !== cols.count : fields.length < 2 || fields.length > 4) {
      out.errors.push({
        line,
        message:
          `expected ${expected} fields (event,timestamp[,kind[,end]]), found ${fields.length}`,
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
      const e: NewEvent = { name, at: t.at, kind: kindText === "auto" ? "auto" : "manual" };
      const endText = cols.end >= 0 ? (fields[cols.end] ?? "").trim() : "";
      if (endText !== "") {
        const end = parseTime(endText, zone);
        if (end.at < t.at) throw new Refusal("bad_input", `the end ${endText} is before the start`);
        e.end = end.at;
        if (end.warning) out.warnings.push({ line, message: end.warning });
      }
      out.events.push(e);
      if (t.warning) out.warnings.push({ line, message: t.warning });
    } catch (err) {
      if (!isRefusal(err)) throw err;
      out.errors.push({ line, message: err.message });
    }
  }
  if (error) out.errors.push(error);
  return out;
}

/**
 * The CSV the store writes and export sends: header, then rows in time order; the `end` column
 * only when an event has an end (files without one read as they always did).
 */
export function formatEventsCsv(events: readonly NewEvent[]): string {
  const ends = events.some((e) => e.end !== undefined);
  let s = ends ? "event,timestamp,kind,end\n" : "event,timestamp,kind\n";
  for (const e of events) {
    s += `${csvField(e.name)},${new Date(e.at).toISOString()},${e.kind}`;
    if (ends) s += `,${e.end === undefined ? "" : new Date(e.end).toISOString()}`;
    s += "\n";
  }
  return s;
}
