// @ts-check
// Live panels ask the server for the samples newer than theirs every second and append them to
// the charts (setData: zoom and hidden series stay). In Auto mode the view follows the tracer:
// when samples start or stop coming in, it is asked for again.
import { appendBlock, blocksFor, decodeBlock, xWindow } from "./data.js";
import { errorText, flash } from "./messages.js";
import { built, byId } from "./registry.js";
import { fmtTime, panelZone } from "./time.js";

/**
 * @typedef {import("./types.js").RawBlock} RawBlock
 * @typedef {import("./types.js").ChartConfig} ChartConfig
 */

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

/** Live polls answered with new samples, and samples appended (tests, debugging). */
export const liveStats = { polls: 0, appended: 0 };

const LIVE_POLL_MS = 1000;
/** @type {{ panel: HTMLElement, since: number, timer: number } | null} */
let live = null;

let refreshing = false;

/** Asks for the view again (the charts start over): another file, live or not, new columns. */
export function refreshView() {
  const panel = document.getElementById("panel");
  if (!panel || refreshing) return;
  refreshing = true;
  const q = new URLSearchParams(location.search);
  q.delete("tab");
  q.delete("file"); // the server fills in the file it shows now
  const text = q.toString();
  htmx.ajax("GET", `/tab/${panel.dataset.tab}${text ? "?" + text : ""}`, {
    target: "#view",
    swap: "outerHTML",
  }).finally(() => (refreshing = false));
}

function stopLive() {
  if (live) clearTimeout(live.timer);
  live = null;
}

/** Starts polling for the panel's new samples (live panels that are not paused). @param {HTMLElement} panel */
export function startLive(panel) {
  stopLive();
  if (panel.dataset.live !== "1" || panel.dataset.paused === "1" || !panel.dataset.liveUrl) return;
  live = { panel, since: Number(panel.dataset.since), timer: 0 };
  live.timer = setTimeout(pollLive, LIVE_POLL_MS);
}

async function pollLive() {
  const l = live;
  if (!l) return;
  if (!l.panel.isConnected) {
    live = null;
    return;
  }
  const url = new URL(/** @type {string} */ (l.panel.dataset.liveUrl), location.href);
  url.searchParams.set("since", String(l.since));
  url.searchParams.set("epoch", l.panel.dataset.epoch ?? "");
  url.searchParams.set("sig", l.panel.dataset.sig ?? "");
  try {
    const res = await fetch(url, { headers: { Accept: "application/json" } });
    liveStats.polls++;
    if (live !== l || !l.panel.isConnected) return;
    if (res.status === 200) {
      const j = await res.json();
      if (live !== l) return;
      if (j.reload || j.live === false) {
        stopLive();
        refreshView();
        return;
      }
      appendLive(l.panel, j);
      l.since = j.last;
    } else if (res.status !== 204) {
      flash(`Live update failed: ${await errorText(res)}`);
    }
  } catch (_err) {
    // the server is restarting or unreachable: the next poll tries again
  }
  if (live === l) l.timer = setTimeout(pollLive, LIVE_POLL_MS);
}

/**
 * Appends new samples to the panel's blocks (in place: the charts hold these arrays), moves
 * the x window with the newest sample unless zoomed, drops what slid out of the range, and
 * updates every chart and card of the panel.
 * @param {HTMLElement} panel
 * @param {{ last: number, count: number, blocks: RawBlock[], cards: {id: string, value: string}[],
 *   bars: {id: string, bars: NonNullable<ChartConfig["bars"]>}[] }} j
 */
function appendLive(panel, j) {
  const blocks = blocksFor(panel);
  // Samples per x position of block 0 as the panel came (more than 1 where it was reduced).
  panel.dataset.perPoint ??= String(
    Math.max(1, Number(panel.dataset.rows ?? 0) / Math.max(1, blocks[0]?.t.length ?? 1)),
  );
  let dropped = 0;
  j.blocks.forEach((raw, k) => {
    const b = blocks[k];
    if (b) appendBlock(b, decodeBlock(raw)); // a hole since the newest sample: a break
  });
  const w = xWindow(panel);
  if (!panel.dataset.zoom) {
    const range = Number(panel.dataset.rangeMs);
    if (range > 0) {
      // The range counts back from the newest sample, never before the first.
      w.end = j.last;
      w.start = Math.max(blocks[0]?.t[0] ?? w.start, j.last - range);
      // keep one point before the window (the line enters from the left edge)
      for (const b of blocks) {
        let drop = 0;
        while (drop + 1 < b.t.length && b.t[drop + 1] < w.start) drop++;
        if (b === blocks[0]) dropped = drop;
        if (drop > 0) {
          b.t.splice(0, drop);
          for (const s of b.s) s.splice(0, drop);
        }
      }
    } else w.end = j.last;
  }
  liveStats.appended += j.count;
  for (const [fig, c] of built) {
    if (!panel.contains(fig)) continue;
    try {
      c.update?.();
    } catch (err) {
      console.error(`chart ${c.id}:`, err);
    }
  }
  for (const { id, bars } of j.bars ?? []) byId.get(id)?.setBars?.(bars);
  for (const { id, value } of j.cards) {
    const el = panel.querySelector(`#card-${CSS.escape(id)} .card-value`);
    if (el) el.textContent = value;
  }
  // The samples in the window: the header's and the Samples card's count, the same number.
  const rows = Math.max(
    0,
    Number(panel.dataset.rows ?? 0) + j.count -
      Math.round(dropped * Number(panel.dataset.perPoint)),
  );
  panel.dataset.rows = String(rows);
  for (const el of panel.querySelectorAll("#card-samples .card-value, .source-line .window-rows")) {
    el.textContent = rows.toLocaleString("en-US");
  }
  const shown = panel.querySelectorAll(".source-line .window time");
  [w.start, w.end].forEach((t, i) => {
    const el = /** @type {HTMLElement | undefined} */ (shown[i]);
    if (!el) return;
    el.dataset.t = String(t);
    el.setAttribute("datetime", new Date(t).toISOString());
    el.textContent = fmtTime(t, panelZone());
  });
  const newest =
    /** @type {HTMLElement | null} */ (panel.querySelector(".source-line .newest time"));
  if (newest) {
    newest.dataset.t = String(j.last);
    newest.setAttribute("datetime", new Date(j.last).toISOString());
    newest.textContent = fmtTime(j.last, panelZone());
  }
}

/**
 * Auto mode follows the tracer: when the status line says samples started (or stopped)
 * coming in and the panel is not (or is) live, the view is asked for again.
 * @param {HTMLElement} status
 */
export function checkLive(status) {
  // Tracing started or stopped elsewhere (the API, a crash): the form's buttons follow.
  const tracing = document.getElementById("tracing");
  const running = status.dataset.state === "running" || status.dataset.state === "starting";
  if (
    tracing && !tracing.matches(".htmx-request, :has(.htmx-request)") &&
    tracing.dataset.running !== (running ? "1" : "0")
  ) {
    tracing.dataset.running = running ? "1" : "0"; // asked once
    htmx.ajax("GET", "/ui/trace", { target: "#tracing", swap: "outerHTML" });
  }
  const panel = document.getElementById("panel");
  if (!panel || panel.dataset.mode !== "auto" || panel.dataset.tab === "proctree") return;
  if (panel.classList.contains("htmx-request") || panel.dataset.problem) return;
  const now = status.dataset.liveNow === "1";
  if (now !== (panel.dataset.live === "1")) refreshView();
}
