// Times of events as people write them: epoch ms, ISO 8601 with a zone, or a wall time in a
// zone (DST gaps refused, repeated hours read as the first, with a warning).
import { Refusal } from "../schema/refusal.ts";
import { serverZone } from "../query/zone.ts";

export const TIME =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?(?:\[([^\]]+)\])?$/i;

/** Epoch ms written as digits (a fraction or sign is read, to be refused with a reason). */
export const EPOCH = /^-?\d+(?:\.\d+)?$/;

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
