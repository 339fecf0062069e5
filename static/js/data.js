// @ts-check
// The panel's data: blocks of uPlot columns that the fragment carries as JSON (decoded once per
// panel; live.js appends to them in place), the x window every chart of the panel shows, and
// the smoothing line charts apply.

/**
 * @typedef {import("./types.js").RawBlock} RawBlock
 * @typedef {import("./types.js").Block} Block
 */

/** @type {WeakMap<Element, Block[]>} */
const panelData = new WeakMap();

/** Decodes a block as the server sends it (x as deltas). @param {RawBlock} b @returns {Block} */
export function decodeBlock(b) {
  const t = new Array(b.dt.length + 1);
  t[0] = b.t0;
  for (let i = 0; i < b.dt.length; i++) t[i + 1] = t[i] + b.dt[i];
  return { t: b.s.length || b.dt.length ? t : [], s: b.s, gap: b.gap ?? null };
}

/**
 * Appends `add` (a decoded block of later samples) to `b` in place (the charts hold these
 * arrays): a null position first when the step from `b`'s newest sample is longer than its
 * `gap` (a hole: tracing stopped for a while, src/query/gaps.ts), so that lines break there.
 * @param {Block} b @param {Block} add
 */
export function appendBlock(b, add) {
  const last = b.t[b.t.length - 1], first = add.t[0];
  if (first === undefined) return;
  if (b.gap && last !== undefined && first - last > b.gap) {
    b.t.push(Math.min(last + b.gap / 3, (last + first) / 2));
    for (const s of b.s) s.push(null);
  }
  const base = b.t.length;
  b.t.push(...add.t);
  add.s.forEach((v, i) => {
    const into = (b.s[i] ??= []);
    while (into.length < base) into.push(null);
    into.push(...v);
  });
}

/** The decoded data blocks of the panel holding `el`. @param {Element} el */
export function blocksFor(el) {
  const panel = el.closest("#panel");
  if (!panel) return [];
  let blocks = panelData.get(panel);
  if (!blocks) {
    const script = panel.querySelector("script.tab-data");
    /** @type {RawBlock[]} */
    const raw = script ? JSON.parse(script.textContent ?? "{}").blocks ?? [] : [];
    blocks = raw.map(decodeBlock);
    panelData.set(panel, blocks);
  }
  return blocks;
}

/** @type {WeakMap<Element, {start: number, end: number}>} */
const panelWindows = new WeakMap();

/**
 * The panel's x window: every chart of a tab shows the same span. One object per panel, read
 * by the charts' scales each time they are set: a live panel moves it with the newest sample.
 * @param {Element} fig
 */
export function xWindow(fig) {
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  if (!panel) return { start: 0, end: 1 };
  let w = panelWindows.get(panel);
  if (!w) {
    const start = Number(panel.dataset.start), end = Number(panel.dataset.end);
    if (Number.isFinite(start) && Number.isFinite(end) && end > start) w = { start, end };
    else {
      const t = blocksFor(panel)[0]?.t ?? [];
      w = { start: t[0] ?? 0, end: t[t.length - 1] ?? 1 };
    }
    panelWindows.set(panel, w);
  }
  return w;
}

/** Trailing mean over `n` samples; a gap stays a gap. @param {(number|null)[]} v @param {number} n */
export function smooth(v, n) {
  if (n <= 1) return v;
  const out = new Array(v.length);
  let sum = 0, count = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x != null) {
      sum += x;
      count++;
    }
    const old = i - n >= 0 ? v[i - n] : null;
    if (old != null) {
      sum -= old;
      count--;
    }
    out[i] = x == null || count === 0 ? null : sum / count;
  }
  return out;
}
