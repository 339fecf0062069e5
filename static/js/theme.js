// @ts-check
// The theme (light, dark or the system's) and the colours charts take from it. The saved theme
// is applied before the first paint by static/theme.js, a classic script in <head>.
import { SERIES_DARK, SERIES_LIGHT } from "./palette.js";

const THEME_KEY = "sysmon.theme";
const root = document.documentElement;
/** The system's preference; main.js rebuilds the charts when it changes. */
export const darkQuery = matchMedia("(prefers-color-scheme: dark)");

export function isDark() {
  const t = root.dataset.theme;
  return t === "dark" || (t !== "light" && darkQuery.matches);
}

/** The chosen theme: "light", "dark" or "system". */
export function currentTheme() {
  return root.dataset.theme ?? "system";
}

/** A CSS variable of the page. @param {string} name */
export function css(name) {
  return getComputedStyle(root).getPropertyValue(name).trim();
}

/** Applies a theme and keeps it (the caller rebuilds the charts). @param {string} theme */
export function setTheme(theme) {
  root.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch (_err) {
    // storage disabled: the theme lasts until the page is left
  }
}

/** The theme's series colours (static/js/palette.js). */
export const palette = () => (isDark() ? SERIES_DARK : SERIES_LIGHT);

/** The k-th series colour of the theme (colors.js gives each series name its own). */
export const color = (/** @type {number} */ k) => palette()[k % palette().length];

/** Axis and grid colours of the theme. */
export function ink() {
  return { text: css("--fg-muted") || "#666", grid: css("--grid") || "#8884" };
}
