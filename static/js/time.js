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

/** "2024-05-01 14:00:03 CEST": always with its zone. @param {number} ms @param {string|undefined} tz */
export function fmtTime(ms, tz) {
  const key = tz ?? "";
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formats.set(key, f);
  }
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
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
