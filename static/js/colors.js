// @ts-check
// One colour per series name across the page: `redis` is the same colour in the containers' CPU
// lines, their memory lines and the bars, whichever chart asked first. A name gets a slot of the
// palette (palette.js) the first time a chart shows it, the slot fewest names have and, where
// the palette allows, one no other series of that chart has; slots last for the browser tab's
// session (sessionStorage), so a tab switch or a refresh keeps them.
import { rgb } from "./palette.js";
import { isDark, palette } from "./theme.js";

const KEY = "sysmon.colors";
/** Names remembered at most (containers come and go); the oldest are forgotten. */
const MAX_NAMES = 500;

/** @type {Map<string, number>} name → palette slot */
const slots = load();

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    if (Array.isArray(saved)) {
      return new Map(
        saved.filter((e) => Array.isArray(e) && typeof e[0] === "string" && e[1] >= 0),
      );
    }
  } catch (_err) {
    // storage disabled or damaged: slots are given anew
  }
  return new Map();
}

function save() {
  while (slots.size > MAX_NAMES) slots.delete(/** @type {string} */ (slots.keys().next().value));
  try {
    sessionStorage.setItem(KEY, JSON.stringify([...slots]));
  } catch (_err) {
    // storage disabled: slots last until the page is left
  }
}

/**
 * The palette slot of each name (one chart's series): a name seen before keeps its slot.
 * @param {string[]} names @returns {number[]}
 */
export function slotsOf(names) {
  const n = palette().length;
  const taken = new Set(names.flatMap((x) => (slots.has(x) ? [slots.get(x) % n] : [])));
  let added = false;
  for (const name of names) {
    if (slots.has(name)) continue;
    const uses = new Array(n).fill(0);
    for (const s of slots.values()) uses[s % n]++;
    let best = -1;
    for (let k = 0; k < n; k++) {
      const free = !taken.has(k);
      const bestFree = best >= 0 && !taken.has(best);
      if (best < 0 || (free && !bestFree) || (free === bestFree && uses[k] < uses[best])) best = k;
    }
    slots.set(name, best);
    taken.add(best);
    added = true;
  }
  if (added) save();
  return names.map((name) => /** @type {number} */ (slots.get(name)) % n);
}

/** The theme's colour of each name. @param {string[]} names @returns {string[]} */
export function colorsOf(names) {
  const p = palette();
  return slotsOf(names).map((k) => p[k]);
}

/** The theme's colour of one name. @param {string} name */
export const colorOf = (name) => colorsOf([name])[0];

/**
 * The colour of a trace when several are compared: its own slot (its index), the same on
 * every chart, whatever the series. @param {number} k
 */
export const traceColor = (k) => {
  const p = palette();
  return p[k % p.length];
};

/** How far a trace's shades go toward black (light theme) or white (dark theme). */
const SHADES = [0, 0.35, 0.6];

/**
 * A shade of a trace's colour (its family): `step` 0 is the colour itself, the next ones
 * darker on the light theme and lighter on the dark one (more contrast with the panel), so
 * that many series of one trace (its processes) are told apart in its colour.
 * @param {number} k @param {number} step
 */
export function traceShade(k, step) {
  const base = traceColor(k);
  const f = SHADES[step % SHADES.length] ?? 0;
  if (f === 0) return base;
  const to = isDark() ? 255 : 0;
  return `#${
    rgb(base).map((c) => Math.round(c + (to - c) * f).toString(16).padStart(2, "0")).join("")
  }`;
}

/** Paints the swatches that name a trace (`data-trace`) under `el`. @param {Element} el */
export function paintTraces(el) {
  for (const sw of el.querySelectorAll(".trace-swatch[data-trace]")) {
    /** @type {HTMLElement} */ (sw).style.background = traceColor(
      Number(/** @type {HTMLElement} */ (sw).dataset.trace),
    );
  }
}
