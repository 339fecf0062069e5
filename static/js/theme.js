// @ts-check
// The theme (light, dark or the system's) and the colours charts take from it. The saved theme
// is applied before the first paint by static/theme.js, a classic script in <head>.

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

const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
const PALETTE_DARK = [
  "#7aa6d6",
  "#ffb15e",
  "#ff8a8c",
  "#94d9d2",
  "#8cd17d",
  "#f1ce63",
  "#d4a6c8",
  "#ffbfc6",
  "#c9a78e",
  "#d7d0cc",
];

/** The k-th series colour of the theme. */
export const color = (/** @type {number} */ k) => (isDark() ? PALETTE_DARK : PALETTE)[k % 10];

/** Axis and grid colours of the theme. */
export function ink() {
  return { text: css("--fg-muted") || "#666", grid: css("--grid") || "#8884" };
}
