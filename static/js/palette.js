// @ts-check
// The charts' colours, colour-blind safe and readable on both themes. Pure data and arithmetic
// (no DOM): tests/palette_test.ts checks every colour against the panel backgrounds of
// static/app.css.
//
// Series: the hues of Okabe and Ito's palette ("Color Universal Design", 2008), which people
// with any of the common colour vision deficiencies tell apart; on the light theme the light
// ones (orange, sky blue, yellow) are darkened and on the dark theme the dark ones (blue,
// vermillion, black) lightened, so that each line has at least 3:1 contrast against the panel
// (WCAG 2 non-text contrast) while keeping its hue, and orange stays lighter than vermillion.
// Heatmap: sequential ramps whose lightness runs one way only (ColorBrewer's YlOrBr on the
// light theme, inferno's hues on the dark one), readable without telling hues apart.

/** Names of the hues, in the order series take them. */
export const HUES = [
  "blue",
  "orange",
  "bluish green",
  "vermillion",
  "reddish purple",
  "sky blue",
  "yellow",
  "grey",
];

/** Series colours on the light theme (panel #ffffff). */
export const SERIES_LIGHT = [
  "#0072b2",
  "#c27f00",
  "#008f68",
  "#b34700",
  "#b8528f",
  "#3d8fc4",
  "#8c7f00",
  "#5f6470",
];

/** Series colours on the dark theme (panel #1b1f27). */
export const SERIES_DARK = [
  "#3b8fd9",
  "#e69f00",
  "#10b589",
  "#e8702a",
  "#d98bb8",
  "#7cc8f2",
  "#f0e442",
  "#b8bdc7",
];

/** Heatmap stops from 0 % (the panel's own tone) to 100 %, light theme. */
export const HEAT_LIGHT = ["#f3f5f9", "#fee391", "#fe9929", "#cc4c02", "#662506"];
/** Heatmap stops, dark theme. */
export const HEAT_DARK = ["#1e222c", "#57106e", "#bc3754", "#f98e09", "#fcffa4"];

/** "#rrggbb" as [r, g, b] (0-255). @param {string} hex @returns {number[]} */
export function rgb(hex) {
  const h = hex.replace(/^#/, "");
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

/** WCAG 2 relative luminance. @param {string} hex */
export function luminance(hex) {
  const lin = rgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const weights = [0.2126, 0.7152, 0.0722];
  return lin.reduce((sum, c, i) => sum + c * (weights[i] ?? 0), 0);
}

/** WCAG 2 contrast ratio of two colours (1 to 21). @param {string} a @param {string} b */
export function contrast(a, b) {
  const x = luminance(a), y = luminance(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/**
 * The heatmap colour of `f` (0 to 1) on a ramp of stops, as "rgb(r,g,b)".
 * @param {string[]} stops @param {number} f
 */
export function rampColor(stops, f) {
  const x = Math.max(0, Math.min(1, f)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x)), w = x - k;
  const a = rgb(stops[k] ?? "#000000"), b = rgb(stops[k + 1] ?? "#000000");
  const c = a.map((v, j) => Math.round(v + ((b[j] ?? v) - v) * w));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
