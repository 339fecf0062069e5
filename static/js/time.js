// @ts-check
// Times in the display zone: the panel's data-tz, "local" (or none) meaning the browser's.

/** @param {string | undefined} tz "local" or an IANA zone */
export const zoneOf = (tz) => (!tz || tz === "local" ? undefined : tz);
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** @param {string | undefined} tz */
export function zoneLabel(tz) {
  return tz ? tz : `Local (${browserZone})`;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/**
 * The parts of `ms` in `tz` (undefined: the browser's) as `locale` writes them with `opts`;
 * the formatter is made once per locale, options and zone.
 * @param {number} ms @param {string | undefined} tz @param {string} locale
 * @param {Intl.DateTimeFormatOptions} opts
 * @returns {Record<string, string>}
 */
export function zoneParts(ms, tz, locale, opts) {
  const key = `${locale}|${tz ?? ""}|${JSON.stringify(opts)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: tz });
    formats.set(key, f);
  }
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
  return p;
}

/** Year to second, two digits each, on a 24-hour clock. */
const WALL = /** @type {Intl.DateTimeFormatOptions} */ ({
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

/** "2024-05-01 14:00:03 CEST": always with its zone. @param {number} ms @param {string|undefined} tz */
export function fmtTime(ms, tz) {
  const p = zoneParts(ms, tz, "en-US", { ...WALL, timeZoneName: "short" });
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** The display zone of the page's panel (undefined: the browser's). */
export function panelZone() {
  const panel = document.getElementById("panel");
  return zoneOf(panel?.dataset.tz);
}

/** Rewrites <time data-t> and zone names under `el` in the display zone. @param {Element} el */
export function relabel(el) {
  const tz = panelZone();
  for (const t of el.querySelectorAll("time[data-t]")) {
    t.textContent = fmtTime(Number(/** @type {HTMLElement} */ (t).dataset.t), tz);
  }
  for (const z of el.querySelectorAll(".tz-name")) z.textContent = zoneLabel(tz);
  // The sidebar's forms read times in the display zone: send it with them.
  for (const input of document.querySelectorAll("input[data-display-zone]")) {
    /** @type {HTMLInputElement} */ (input).value = tz ?? browserZone;
  }
}

/** Parts of `ms` as a wall clock in `tz` (undefined: the browser's). @param {number} ms @param {string|undefined} tz */
const wallParts = (ms, tz) => zoneParts(ms, tz, "en-US", WALL);

/** "2024-05-01T14:00:03", as a datetime-local field holds it. @param {number} ms @param {string|undefined} tz */
export function wallTime(ms, tz) {
  const p = wallParts(Math.floor(ms / 1000) * 1000, tz);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/** How far `tz`'s wall clock is ahead of UTC at `ms`. @param {number} ms @param {string|undefined} tz */
function offsetAt(ms, tz) {
  const p = wallParts(ms, tz);
  const n = (/** @type {string} */ k) => Number(p[k]);
  const wall = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a wall time ("2024-05-01T14:00[:03]") is in `tz`; NaN when it is not one. A wall
 * time that a clock change skips or repeats is read with the offset before the change.
 * @param {string} text @param {string|undefined} tz
 */
export function wallToEpoch(text, tz) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?$/.exec(text);
  if (!m) return NaN;
  const n = (/** @type {number} */ i) => Number(m[i] ?? 0);
  const guess = Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6));
  const first = guess - offsetAt(guess, tz);
  return guess - offsetAt(first, tz);
}
