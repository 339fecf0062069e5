// @ts-check
// The dashboard's client: builds a uPlot chart for every figure htmx brings in (its config and
// the panel's data are JSON in the fragment), destroys it when htmx removes the figure, writes
// times in the display zone, and sends zoom, clicks and the theme where they belong.
// Live panels ask the server for the samples newer than theirs every second and append them
// to the charts (setData: zoom and hidden series stay). Event markers are drawn on every time
// chart by a uPlot plugin, close ones merged ("×12").
// State lives in the URL (the server renders it); hidden series in sessionStorage, the theme
// and "Show event markers" in localStorage.
import uPlot from "/vendor/uplot.js";

/**
 * @typedef {{ label: string, i: number }} SeriesRef
 * @typedef {{ id: string, title: string, unit: string, kind: "line"|"heatmap"|"bars"|"spark",
 *   block: number, series: SeriesRef[], y: [number, number] | null,
 *   bars: { labels: string[], values: (number|null)[] } | null }} ChartConfig
 * @typedef {{ t0: number, dt: number[], s: (number|null)[][], rows: number, reduced: boolean }} RawBlock
 * @typedef {{ t: number[], s: (number|null)[][] }} Block
 * @typedef {{ id: string, kind: string, u: any, canvas: HTMLCanvasElement | null,
 *   destroy: () => void, resize: () => void, update?: () => void,
 *   setBars?: (bars: NonNullable<ChartConfig["bars"]>) => void }} Built
 * @typedef {{ id: string, name: string, at: number, kind: string }} TraceEvent
 * @typedef {{ drawn: number, labels: string[] }} MarkerInfo
 */

/** @type {any} */
const htmx = /** @type {any} */ (globalThis).htmx;

/** Built charts by figure element; also reachable by id (tests, debugging). */
/** @type {Map<Element, Built>} */
const built = new Map();
/** @type {Map<string, Built>} */
const byId = new Map();
/** What the marker plugin drew last on each chart (tests, debugging). @type {Map<string, MarkerInfo>} */
const markerInfo = new Map();
/** Live polls answered with new samples, and samples appended (tests, debugging). */
const liveStats = { polls: 0, appended: 0 };
/** @type {any} */ (globalThis).sysmon = { charts: byId, markers: markerInfo, live: liveStats };

// ---- theme

const THEME_KEY = "sysmon.theme";
const root = document.documentElement;
const darkQuery = matchMedia("(prefers-color-scheme: dark)");

function isDark() {
  const t = root.dataset.theme;
  return t === "dark" || (t !== "light" && darkQuery.matches);
}

/** @param {string} name */
function css(name) {
  return getComputedStyle(root).getPropertyValue(name).trim();
}

function setTheme(/** @type {string} */ theme) {
  root.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch (_err) {
    // storage disabled: the theme lasts until the page is left
  }
  rebuildAll();
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
const color = (/** @type {number} */ k) => (isDark() ? PALETTE_DARK : PALETTE)[k % 10];

// ---- time in the display zone

/** @param {string | undefined} tz "local" or an IANA zone */
const zoneOf = (tz) => (!tz || tz === "local" ? undefined : tz);
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** @param {string | undefined} tz */
function zoneLabel(tz) {
  return tz ? tz : `Local (${browserZone})`;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/** "2024-05-01 14:00:03 CEST": always with its zone. @param {number} ms @param {string|undefined} tz */
function fmtTime(ms, tz) {
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

function panelZone() {
  const panel = document.getElementById("panel");
  return zoneOf(panel?.dataset.tz);
}

/** Rewrites <time data-t> and zone names under `el` in the display zone. @param {Element} el */
function relabel(el) {
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

// ---- data

/** @type {WeakMap<Element, Block[]>} */
const panelData = new WeakMap();

/** Decodes a block as the server sends it (x as deltas). @param {RawBlock} b @returns {Block} */
function decodeBlock(b) {
  const t = new Array(b.dt.length + 1);
  t[0] = b.t0;
  for (let i = 0; i < b.dt.length; i++) t[i + 1] = t[i] + b.dt[i];
  return { t: b.s.length || b.dt.length ? t : [], s: b.s };
}

/** The decoded data blocks of the panel holding `el`. @param {Element} el */
function blocksFor(el) {
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

/** Trailing mean over `n` samples; a gap stays a gap. @param {(number|null)[]} v @param {number} n */
function smooth(v, n) {
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

/** Short number for axes and legends. @param {number | null} v */
function fmtNum(v) {
  if (v == null || !Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

// ---- hidden series (kept for the session, per chart)

/** @param {string} id @returns {Set<string>} */
function hiddenOf(id) {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(`sysmon.hidden.${id}`) ?? "[]"));
  } catch (_err) {
    return new Set();
  }
}

/** @param {string} id @param {Set<string>} set */
function saveHidden(id, set) {
  try {
    sessionStorage.setItem(`sysmon.hidden.${id}`, JSON.stringify([...set]));
  } catch (_err) {
    // storage disabled: hidden series last until the next refresh
  }
}

// ---- zoom, reset and the process list

/** @param {string} params query to merge into the panel's view URL */
function goView(params) {
  const panel = document.getElementById("panel");
  if (!panel?.dataset.view) return;
  const url = new URL(panel.dataset.view, location.href);
  for (const [k, v] of new URLSearchParams(params)) url.searchParams.set(k, v);
  if (!params.includes("zoom=")) url.searchParams.delete("zoom");
  document.body.classList.add("loading");
  htmx.ajax("GET", url.pathname + url.search, { target: "#view", swap: "outerHTML" })
    .finally(() => document.body.classList.remove("loading"));
}

/** @param {number} a @param {number} b */
function zoomTo(a, b) {
  if (!(b - a > 0)) return;
  goView(`zoom=${Math.floor(a)}-${Math.ceil(b)}`);
}

function resetZoom() {
  const panel = document.getElementById("panel");
  if (panel?.dataset.zoom) goView("");
}

/** @param {number} t */
function showProcesses(t) {
  const panel = document.getElementById("panel");
  if (!panel?.dataset.procs || !document.getElementById("procs")) return;
  const url = new URL(panel.dataset.procs, location.href);
  url.searchParams.set("at", String(Math.round(t)));
  htmx.ajax("GET", url.pathname + url.search, { target: "#procs", swap: "outerHTML" });
}

// ---- event markers

/** The trace's events, oldest first (from #events-data, which the sidebar keeps current). @type {TraceEvent[]} */
let events = [];
const MARKERS_KEY = "sysmon.markers";
let showMarkers = true;
try {
  showMarkers = localStorage.getItem(MARKERS_KEY) !== "0";
} catch (_err) {
  // storage disabled: markers shown
}
/** Markers closer than this (CSS px) are drawn as one, labelled with how many. */
const MERGE_PX = 8;

/** The first event at or after `t`. @param {number} t */
function firstEventAt(t) {
  let lo = 0, hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid].at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Dashed vertical lines with labels at the events in view, drawn after the series. Work is
 * proportional to the events in view (found by binary search); events closer than MERGE_PX
 * merge into one marker labelled "×N", and a label that would overlap the previous one is
 * left out, so thousands of events stay cheap and readable.
 * @param {string} id
 */
function markersPlugin(id) {
  return {
    hooks: {
      draw: [(/** @type {any} */ u) => {
        /** @type {MarkerInfo} */
        const info = { drawn: 0, labels: [] };
        markerInfo.set(id, info);
        const min = u.scales.x.min, max = u.scales.x.max;
        if (!showMarkers || events.length === 0 || min == null || max == null) return;
        const ctx = u.ctx;
        const pr = uPlot.pxRatio || 1;
        const { left, top, width, height } = u.bbox;
        const auto = css("--marker-auto") || "#d9822b";
        const manual = css("--marker") || "#b04fc9";
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        ctx.font = `${11 * pr}px ${css("--font") || "sans-serif"}`;
        ctx.textBaseline = "top";
        let labelEnd = -Infinity;
        /** @type {{x: number, n: number, first: TraceEvent, autoOnly: boolean} | null} */
        let group = null;
        const flush = (/** @type {NonNullable<typeof group>} */ g) => {
          const x = Math.round(g.x) + 0.5;
          const stroke = g.autoOnly ? auto : manual;
          ctx.strokeStyle = stroke;
          ctx.lineWidth = (g.n > 1 ? 2 : 1) * pr;
          ctx.setLineDash([4 * pr, 3 * pr]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          const name = g.first.name;
          const label = g.n > 1 ? `×${g.n}` : name.length > 28 ? name.slice(0, 27) + "…" : name;
          const w = ctx.measureText(label).width;
          info.drawn++;
          // right of the line, or left of it near the right edge
          const lx = x + w + 8 * pr > left + width ? x - w - 6 * pr : x + 2 * pr;
          if (lx > labelEnd) {
            ctx.fillStyle = css("--bg-panel") || "#fff";
            ctx.globalAlpha = 0.8;
            ctx.fillRect(lx, top + 2 * pr, w + 4 * pr, 14 * pr);
            ctx.globalAlpha = 1;
            ctx.fillStyle = stroke;
            ctx.fillText(label, lx + 2 * pr, top + 3 * pr);
            labelEnd = lx + w + 8 * pr;
            info.labels.push(label);
          }
        };
        for (let i = firstEventAt(min); i < events.length && events[i].at <= max; i++) {
          const e = events[i];
          const x = u.valToPos(e.at, "x", true);
          if (group && x - group.x < MERGE_PX * pr) {
            group.n++;
            group.autoOnly &&= e.kind === "auto";
            continue;
          }
          if (group) flush(group);
          group = { x, n: 1, first: e, autoOnly: e.kind === "auto" };
        }
        if (group) flush(group);
        ctx.restore();
      }],
    },
  };
}

/** Reads the events the sidebar carries and redraws the markers. @param {Element} el */
function loadEvents(el) {
  const script = el.id === "events-data" ? el : el.querySelector("#events-data");
  if (!script) return;
  try {
    /** @type {TraceEvent[]} */
    const list = JSON.parse(script.textContent ?? "[]");
    events = list.sort((a, b) => a.at - b.at);
  } catch (err) {
    console.error("events:", err);
    return;
  }
  const card = document.querySelector("#card-events .card-value");
  if (card) card.textContent = events.length.toLocaleString("en-US");
  redrawMarkers();
}

function redrawMarkers() {
  for (const c of built.values()) if (c.u && c.kind !== "spark") c.u.redraw(false);
}

// ---- charts

const HEIGHT = 220;

/** @param {HTMLElement} fig */
function configOf(fig) {
  const script = fig.querySelector(":scope > script.chart-config");
  return /** @type {ChartConfig} */ (JSON.parse(script?.textContent ?? "null"));
}

/** Axis and grid colours of the theme. */
function ink() {
  return { text: css("--fg-muted") || "#666", grid: css("--grid") || "#8884" };
}

/** Zoom by drag, reset by double-click, click for processes: the parts every time chart shares. */
function timeChartOpts(/** @type {string | undefined} */ tz, /** @type {string} */ unit) {
  const { text, grid } = ink();
  return {
    ms: 1,
    tzDate: tz ? (/** @type {number} */ ts) => uPlot.tzDate(new Date(ts), tz) : undefined,
    cursor: {
      sync: { key: "sysmon", setSeries: false },
      drag: { x: true, y: false, setScale: false },
      bind: { dblclick: () => () => null },
    },
    axes: [
      {
        label: `Time (${zoneLabel(tz)})`,
        labelSize: 18,
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
      },
      {
        label: unit,
        labelSize: unit ? 18 : 0,
        size: 56,
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        values: (/** @type {any} */ _u, /** @type {number[]} */ splits) => splits.map(fmtNum),
      },
    ],
    hooks: {
      setSelect: [(/** @type {any} */ u) => {
        if (u.select.width < 3) return;
        const a = u.posToVal(u.select.left, "x");
        const b = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        zoomTo(a, b);
      }],
    },
  };
}

/** Wires double-click (reset zoom) and click (processes at that time) on a chart. @param {any} u */
function bindPointer(u) {
  let downX = 0;
  u.over.addEventListener("mousedown", (/** @type {MouseEvent} */ e) => (downX = e.clientX));
  u.over.addEventListener("click", (/** @type {MouseEvent} */ e) => {
    if (Math.abs(e.clientX - downX) > 3 || u.cursor.left == null || u.cursor.left < 0) return;
    showProcesses(u.posToVal(u.cursor.left, "x"));
  });
  u.over.addEventListener("dblclick", resetZoom);
}

/** @type {WeakMap<Element, {start: number, end: number}>} */
const panelWindows = new WeakMap();

/**
 * The panel's x window: every chart of a tab shows the same span. One object per panel, read
 * by the charts' scales each time they are set: a live panel moves it with the newest sample.
 * @param {Element} fig
 */
function xWindow(fig) {
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

/** @param {HTMLElement} plot */
const widthOf = (plot) =>
  Math.max(120, Math.floor(plot.clientWidth || plot.parentElement?.clientWidth || 400));

/** @param {HTMLElement} fig @param {ChartConfig} cfg @returns {Built | null} */
function lineChart(fig, cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  const b = blocksFor(fig)[cfg.block];
  if (!plot || !b || b.t.length === 0) return null;
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  const n = Number(panel?.dataset.smooth ?? 1);
  const tz = zoneOf(panel?.dataset.tz);
  const hidden = hiddenOf(cfg.id);
  const win = xWindow(fig);
  const unit = cfg.unit;
  const base = timeChartOpts(tz, unit);
  const opts = {
    ...base,
    width: widthOf(plot),
    height: HEIGHT,
    plugins: [markersPlugin(cfg.id)],
    scales: {
      x: { time: true, range: () => [win.start, win.end] },
      y: cfg.y
        ? {
          range: (
            /** @type {any} */ _u,
            /** @type {number} */ _min,
            /** @type {number} */ max,
          ) => [cfg.y?.[0] ?? 0, Math.max(cfg.y?.[1] ?? 100, max ?? 0)],
        }
        : {
          range: (
            /** @type {any} */ _u,
            /** @type {number} */ min,
            /** @type {number} */ max,
          ) => [Math.min(0, min ?? 0), max > 0 ? max * 1.05 : 1],
        },
    },
    series: [
      {
        label: "Time",
        value: (
          /** @type {any} */ _u,
          /** @type {number|null} */ v,
        ) => (v == null ? "—" : fmtTime(v, tz)),
      },
      ...cfg.series.map((s, k) => ({
        label: s.label,
        stroke: color(k),
        width: 1.5,
        show: !hidden.has(s.label),
        value: (
          /** @type {any} */ _u,
          /** @type {number|null} */ v,
        ) => (v == null ? "—" : `${fmtNum(v)}${unit ? " " + unit : ""}`),
      })),
    ],
    hooks: {
      ...base.hooks,
      setSeries: [(/** @type {any} */ u, /** @type {number|null} */ i, /** @type {any} */ o) => {
        if (i == null || o?.show === undefined) return;
        const label = u.series[i].label;
        const set = hiddenOf(cfg.id);
        if (o.show) set.delete(label);
        else set.add(label);
        saveHidden(cfg.id, set);
      }],
    },
  };
  const data = () => [b.t, ...cfg.series.map((s) => smooth(b.s[s.i] ?? [], n))];
  const u = new uPlot(opts, data(), plot);
  bindPointer(u);
  return {
    id: cfg.id,
    kind: cfg.kind,
    u,
    canvas: u.ctx.canvas,
    destroy: () => u.destroy(),
    resize: () => u.setSize({ width: widthOf(plot), height: HEIGHT }),
    update: () => u.setData(data()),
  };
}

/** Colour of a percentage in the heatmap (LUT of 101 steps). */
const heatLut = { dark: /** @type {string[]} */ ([]), light: /** @type {string[]} */ ([]) };
function heatColor(/** @type {number} */ v) {
  const key = isDark() ? "dark" : "light";
  const lut = heatLut[key];
  if (lut.length === 0) {
    for (let i = 0; i <= 100; i++) {
      const f = i / 100;
      // from the background (idle) through blue and orange to red (busy)
      const [r0, g0, b0] = key === "dark" ? [30, 34, 44] : [240, 244, 250];
      const stops = [[r0, g0, b0], [78, 121, 167], [242, 142, 43], [200, 30, 40]];
      const x = f * 3, k = Math.min(2, Math.floor(x)), w = x - k;
      const c = stops[k].map((a, j) => Math.round(a + (stops[k + 1][j] - a) * w));
      lut.push(`rgb(${c[0]},${c[1]},${c[2]})`);
    }
  }
  return lut[Math.max(0, Math.min(100, Math.round(v)))];
}

/** Per-core CPU as a heatmap: one row per core (natural order), time across. */
function heatmapChart(/** @type {HTMLElement} */ fig, /** @type {ChartConfig} */ cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  const b = blocksFor(fig)[cfg.block];
  if (!plot || !b || b.t.length === 0) return null;
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  const tz = zoneOf(panel?.dataset.tz);
  const rows = cfg.series.map((s) => (b.s[s.i] ??= []));
  const n = rows.length;
  const height = Math.max(HEIGHT, Math.min(640, n * 6 + 60));
  const win = xWindow(fig);
  const base = timeChartOpts(tz, "");
  const readout = fig.querySelector("output.heat-readout");
  const every = Math.max(1, Math.ceil(n / 16));
  const opts = {
    ...base,
    width: widthOf(plot),
    height,
    legend: { show: false },
    plugins: [markersPlugin(cfg.id)],
    scales: { x: { time: true, range: () => [win.start, win.end] }, y: { range: () => [0, n] } },
    axes: [
      base.axes[0],
      {
        ...base.axes[1],
        label: "core",
        labelSize: 18,
        // one tick per row (every k-th when many), row 0 at the top
        splits: () => rows.map((_, k) => n - k - 0.5).filter((_, k) => k % every === 0),
        values: (/** @type {any} */ _u, /** @type {number[]} */ splits) =>
          splits.map((v) =>
            cfg.series[Math.round(n - v - 0.5)]?.label.replace(/^cpu[_ ]/, "") ?? ""
          ),
        grid: { show: false },
      },
    ],
    series: [{}, { label: "cores", paths: () => null, points: { show: false } }],
    hooks: {
      ...base.hooks,
      draw: [(/** @type {any} */ u) => {
        const ctx = u.ctx;
        const { left, top, width, height } = u.bbox;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        const rowH = height / n;
        const t = b.t;
        for (let i = 0; i < t.length; i++) {
          const xa = u.valToPos(t[i], "x", true);
          const xb = i + 1 < t.length ? u.valToPos(t[i + 1], "x", true) : xa + 2;
          const w = Math.max(1, xb - xa + 0.5);
          for (let k = 0; k < n; k++) {
            const v = rows[k][i];
            if (v == null) continue;
            ctx.fillStyle = heatColor(v);
            ctx.fillRect(xa, top + k * rowH, w, rowH + 0.5);
          }
        }
        ctx.restore();
      }],
      setCursor: [(/** @type {any} */ u) => {
        if (!readout) return;
        const i = u.cursor.idx, top = u.cursor.top;
        if (i == null || top == null || top < 0) {
          readout.textContent = "";
          return;
        }
        const k = Math.min(n - 1, Math.floor(top / (u.over.clientHeight / n)));
        const v = rows[k]?.[i];
        readout.textContent = `${cfg.series[k]?.label}: ${v == null ? "—" : fmtNum(v) + " %"} at ${
          fmtTime(b.t[i], tz)
        }`;
      }],
    },
  };
  const u = new uPlot(opts, [b.t, b.t.map(() => null)], plot);
  bindPointer(u);
  return {
    id: cfg.id,
    kind: cfg.kind,
    u,
    canvas: u.ctx.canvas,
    destroy: () => u.destroy(),
    resize: () => u.setSize({ width: widthOf(plot), height }),
    // `rows` are the block's own arrays: appended to in place.
    update: () => u.setData([b.t, b.t.map(() => null)]),
  };
}

/** A sparkline for a card: no axes, no cursor. */
function sparkChart(/** @type {HTMLElement} */ fig, /** @type {ChartConfig} */ cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  const b = blocksFor(fig)[cfg.block];
  const s = cfg.series[0];
  if (!plot || !b || !s || b.t.length === 0) return null;
  const panel = /** @type {HTMLElement | null} */ (fig.closest("#panel"));
  const data = () => [b.t, smooth(b.s[s.i] ?? [], Number(panel?.dataset.smooth ?? 1))];
  const opts = {
    width: widthOf(plot),
    height: 40,
    ms: 1,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: {
      x: { time: true },
      y: {
        range: (
          /** @type {any} */ _u,
          /** @type {number} */ min,
          /** @type {number} */ max,
        ) => {
          // a little room below: a series at 0 throughout is a visible line, not the edge
          const lo = Math.min(0, min ?? 0), hi = (max ?? 1) > 0 ? max * 1.1 : 1;
          return [lo - (hi - lo) * 0.06, hi];
        },
      },
    },
    series: [{}, { stroke: color(0), width: 1.25, fill: isDark() ? "#7aa6d633" : "#4e79a722" }],
  };
  const u = new uPlot(opts, data(), plot);
  return {
    id: cfg.id,
    kind: cfg.kind,
    u,
    canvas: u.ctx.canvas,
    destroy: () => u.destroy(),
    resize: () => u.setSize({ width: widthOf(plot), height: 40 }),
    update: () => u.setData(data()),
  };
}

/** Horizontal bars (newest sample per container), drawn on a canvas. */
function barChart(/** @type {HTMLElement} */ fig, /** @type {ChartConfig} */ cfg) {
  const plot = /** @type {HTMLElement} */ (fig.querySelector(".plot"));
  if (!plot || !cfg.bars) return null;
  const canvas = document.createElement("canvas");
  plot.append(canvas);
  const draw = () => {
    const bars = /** @type {NonNullable<ChartConfig["bars"]>} */ (cfg.bars);
    const dpr = devicePixelRatio || 1;
    const w = widthOf(plot), rowH = 26, h = Math.max(40, bars.labels.length * rowH + 12);
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    ctx.scale(dpr, dpr);
    ctx.font = `12px ${css("--font") || "sans-serif"}`;
    ctx.textBaseline = "middle";
    const labelW = Math.min(200, w * 0.35);
    const max = Math.max(100, ...bars.values.map((v) => v ?? 0));
    const { text } = ink();
    bars.labels.forEach((label, k) => {
      const y = 6 + k * rowH, v = bars.values[k];
      ctx.fillStyle = text;
      ctx.textAlign = "right";
      const shown = label.length > 28 ? label.slice(0, 27) + "…" : label;
      ctx.fillText(shown, labelW - 8, y + rowH / 2);
      const bw = v == null ? 0 : ((w - labelW - 70) * v) / max;
      ctx.fillStyle = color(k);
      ctx.fillRect(labelW, y + 4, Math.max(0, bw), rowH - 8);
      ctx.fillStyle = text;
      ctx.textAlign = "left";
      ctx.fillText(v == null ? "—" : `${fmtNum(v)} ${cfg.unit}`, labelW + bw + 6, y + rowH / 2);
    });
  };
  draw();
  return {
    id: cfg.id,
    kind: cfg.kind,
    u: null,
    canvas,
    destroy: () => canvas.remove(),
    resize: draw,
    setBars: (/** @type {NonNullable<ChartConfig["bars"]>} */ bars) => {
      cfg.bars = bars;
      draw();
    },
  };
}

const resizer = new ResizeObserver((entries) => {
  for (const e of entries) {
    const fig = e.target.closest("[data-chart]");
    const c = fig && built.get(fig);
    if (c) c.resize();
  }
});

/** Builds the chart of one figure (replacing any it had). @param {HTMLElement} fig */
function build(fig) {
  destroy(fig);
  const cfg = configOf(fig);
  if (!cfg) return;
  /** @type {Built | null} */
  let c = null;
  try {
    c = cfg.kind === "heatmap"
      ? heatmapChart(fig, cfg)
      : cfg.kind === "bars"
      ? barChart(fig, cfg)
      : cfg.kind === "spark"
      ? sparkChart(fig, cfg)
      : lineChart(fig, cfg);
  } catch (err) {
    console.error(`chart ${cfg.id}:`, err);
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = `This chart could not be drawn: ${err instanceof Error ? err.message : err}`;
    fig.append(p);
  }
  if (!c) return;
  built.set(fig, c);
  byId.set(c.id, c);
  const plot = fig.querySelector(".plot");
  if (plot) resizer.observe(plot);
}

/** @param {Element} fig */
function destroy(fig) {
  const c = built.get(fig);
  if (!c) return;
  const plot = fig.querySelector(".plot");
  if (plot) resizer.unobserve(plot);
  c.destroy();
  built.delete(fig);
  if (byId.get(c.id) === c) byId.delete(c.id);
}

function rebuildAll() {
  for (const fig of [...built.keys()]) build(/** @type {HTMLElement} */ (fig));
}

/** Everything new under `el`: charts, time labels, events, live updates. @param {Element} el */
function init(el) {
  relabel(document.body);
  loadEvents(el);
  const figs = [...el.querySelectorAll("[data-chart]")];
  if (el.matches("[data-chart]")) figs.unshift(el);
  for (const fig of figs) build(/** @type {HTMLElement} */ (fig));
  const panel = el.id === "panel" ? el : el.querySelector("#panel");
  if (panel) startLive(/** @type {HTMLElement} */ (panel));
  const status = el.id === "trace-status" ? el : el.querySelector("#trace-status");
  if (status) checkLive(/** @type {HTMLElement} */ (status));
  const markers = /** @type {HTMLInputElement | null} */ (document.getElementById("show-markers"));
  if (markers) markers.checked = showMarkers;
}

// ---- live: new samples appended to the charts

const LIVE_POLL_MS = 1000;
/** @type {{ panel: HTMLElement, since: number, timer: number } | null} */
let live = null;

let refreshing = false;

/** Asks for the view again (the charts start over): another file, live or not, new columns. */
function refreshView() {
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
function startLive(panel) {
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
  j.blocks.forEach((raw, k) => {
    const b = blocks[k];
    if (!b) return;
    const add = decodeBlock(raw);
    if (add.t.length === 0) return;
    b.t.push(...add.t);
    raw.s.forEach((v, i) => {
      const into = (b.s[i] ??= new Array(b.t.length - add.t.length).fill(null));
      into.push(...v);
    });
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
  const samples = panel.querySelector("#card-samples .card-value");
  if (samples) {
    const n = Number((samples.textContent ?? "").replace(/[^0-9]/g, "")) + j.count;
    samples.textContent = n.toLocaleString("en-US");
  }
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
function checkLive(status) {
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

// ---- messages

/** @param {Response | XMLHttpRequest} r */
async function errorText(r) {
  const text = r instanceof Response ? await r.text() : r.responseText;
  try {
    return JSON.parse(text).error ?? text;
  } catch (_err) {
    return text.slice(0, 300) || `HTTP ${r.status}`;
  }
}

/** Shows a message at the top of the page for a few seconds. @param {string} text */
function flash(text) {
  const el = document.getElementById("flash");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(Number(el.dataset.timer));
  el.dataset.timer = String(setTimeout(() => (el.hidden = true), 8000));
}

// ---- process tree graph: a clicked node's details

/** @param {Element} node */
function showNode(node) {
  const box = document.getElementById("pt-detail");
  if (!box) return;
  const d = /** @type {HTMLElement} */ (node).dataset;
  for (const n of document.querySelectorAll(".pt-node.selected")) n.classList.remove("selected");
  node.classList.add("selected");
  const lines = d.error ? [`PID ${d.pid}: cannot be read (${d.error})`] : [
    `${d.name} (PID ${d.pid})`,
    `PPID ${d.ppid} • threads ${d.threads}`,
    d.cmd ? `Command line: ${d.cmd}` : "No command line (a kernel thread, or not readable)",
  ];
  box.replaceChildren(...lines.map((t) => {
    const p = document.createElement("p");
    p.textContent = t;
    return p;
  }));
}

// ---- PNG export

/** @param {string} id */
function savePng(id) {
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

// ---- wiring

htmx.onLoad((/** @type {Element} */ el) => init(el));

htmx.on("htmx:beforeCleanupElement", (/** @type {CustomEvent} */ e) => {
  const el = /** @type {Element} */ (e.detail.elt);
  if (built.has(el)) destroy(el);
});

htmx.on("htmx:responseError", (/** @type {CustomEvent} */ e) => {
  const xhr = e.detail.xhr;
  errorText(xhr).then((t) => flash(`${xhr.status}: ${t}`));
});
htmx.on("htmx:sendError", () => flash("The server cannot be reached; is sysmon serve running?"));
// Tracing started, stopped or reset: the view may show another file, or go live or not.
document.body.addEventListener("sysmon-refresh", () => refreshView());

document.addEventListener("click", (e) => {
  const target = /** @type {Element} */ (e.target);
  const btn = target.closest?.("button[data-png]");
  if (btn) savePng(/** @type {HTMLElement} */ (btn).dataset.png ?? "");
  const node = target.closest?.(".pt-node");
  if (node) showNode(node);
});

document.addEventListener("keydown", (e) => {
  const node = /** @type {Element} */ (e.target).closest?.(".pt-node");
  if (node && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    showNode(node);
  }
});

document.addEventListener("change", (e) => {
  const el = /** @type {HTMLInputElement} */ (e.target);
  if (el.id !== "show-markers") return;
  showMarkers = el.checked;
  try {
    localStorage.setItem(MARKERS_KEY, showMarkers ? "1" : "0");
  } catch (_err) {
    // storage disabled: the choice lasts until the page is left
  }
  redrawMarkers();
});

const themeSelect = /** @type {HTMLSelectElement | null} */ (document.getElementById("theme"));
if (themeSelect) {
  themeSelect.value = root.dataset.theme ?? "system";
  themeSelect.addEventListener("change", () => setTheme(themeSelect.value));
}
darkQuery.addEventListener("change", () => {
  if ((root.dataset.theme ?? "system") === "system") rebuildAll();
});
