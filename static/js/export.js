// @ts-check
// PNG export: a chart's canvas with its title and display zone above it, as a download.
import { byId } from "./registry.js";
import { css, isDark } from "./theme.js";
import { panelZone, zoneLabel } from "./time.js";

/** @param {string} id */
export function savePng(id) {
  const c = byId.get(id);
  if (!c?.canvas) return;
  const src = c.canvas;
  const title = document.querySelector(`#chart-${CSS.escape(id)} .chart-title`)?.textContent ?? id;
  const pad = 28 * (devicePixelRatio || 1);
  const out = document.createElement("canvas");
  out.width = src.width;
  out.height = src.height + pad;
  const ctx = /** @type {CanvasRenderingContext2D} */ (out.getContext("2d"));
  ctx.fillStyle = css("--bg-panel") || (isDark() ? "#1b1f27" : "#ffffff");
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = css("--fg") || "#222";
  ctx.font = `${14 * (devicePixelRatio || 1)}px sans-serif`;
  ctx.textBaseline = "middle";
  ctx.fillText(`${title}  (${zoneLabel(panelZone())})`, 8, pad / 2);
  ctx.drawImage(src, 0, pad);
  const a = document.createElement("a");
  a.href = out.toDataURL("image/png");
  a.download = `sysmon-${id}.png`;
  document.body.append(a);
  a.click();
  a.remove();
}
