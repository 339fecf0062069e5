// What a dashboard view shows, read from and written to its URL, so that a link reproduces it.
// Pure: no Deno, no I/O. `parseState` never throws; what it rejects comes back in `errors`.

export const TABS = [
  { name: "overview", label: "Overview" },
  { name: "cpu", label: "CPU & Memory" },
  { name: "io", label: "I/O & Network" },
  { name: "gpu", label: "GPU" },
  { name: "containers", label: "Containers" },
  { name: "processes", label: "Processes" },
  { name: "proctree", label: "Process Tree" },
] as const;
export type TabName = (typeof TABS)[number]["name"];

/** Time ranges, counted back from the newest sample (not the wall clock). */
export const RANGES = [
  { name: "10m", label: "10 min", ms: 10 * 60_000 },
  { name: "30m", label: "30 min", ms: 30 * 60_000 },
  { name: "1h", label: "1 hour", ms: 3_600_000 },
  { name: "3h", label: "3 hours", ms: 3 * 3_600_000 },
  { name: "24h", label: "24 hours", ms: 24 * 3_600_000 },
  { name: "all", label: "All", ms: Infinity },
] as const;
export type RangeName = (typeof RANGES)[number]["name"];

/** Zone of naive timestamps: as the file says, or forced (for files that carry none). */
export type SourceChoice = "auto" | "local" | "UTC";

/**
 * Where the charts' newest samples come from: "live" appends the tracer's samples as they
 * are taken (or those another `sysmon run` writes into the file), "file" shows the file as
 * written, "auto" is live while tracing (or while the followed file grows), else the file.
 */
export const MODES = [
  { name: "auto", label: "Auto (live while tracing, else the file)" },
  { name: "live", label: "Live tracer" },
  { name: "file", label: "File" },
] as const;
export type DataMode = (typeof MODES)[number]["name"];

/** Process tree tab: the tree as indented text or as a graph. */
export type TreeView = "text" | "graph";

export interface ViewState {
  /** Base name of the trace the link was made for (informative; the server serves one file). */
  file: string;
  tab: TabName;
  range: RangeName;
  /** Zoomed window, epoch ms UTC, inside the range; null: the whole range. */
  zoom: { start: number; end: number } | null;
  /** Display zone: "local" (the browser's), "UTC" or an IANA zone. */
  tz: string;
  src: SourceChoice;
  /** Trailing mean over this many samples, 1-10 (client side). */
  smooth: number;
  /** No auto-refresh while true. */
  pause: boolean;
  /** Containers tab: how many of the busiest to show (auto mode), 1-10. */
  top: number;
  /** Containers tab: hand-picked names; empty: the `top` busiest by latest CPU. */
  containers: string[];
  /** Time of the process list (epoch ms UTC); null: the newest sample in view. */
  at: number | null;
  /** Where the newest samples come from (see MODES). */
  mode: DataMode;
  /** Process tree tab: the root PID; null: 1. */
  pid: number | null;
  /** Process tree tab: text or graph. */
  ptview: TreeView;
  /** Processes tab: the process whose own history is shown (absent: none). */
  proc?: { pid: number; name: string };
  /** Processes tab: the list's search (name, command line or PID; absent: none). */
  find?: string;
  /**
   * Several traces compared: times as recorded ("wall") or from each trace's start ("start");
   * absent: wall when the traces overlap in time, else start.
   */
  align?: "wall" | "start";
  /** Several traces compared: the indices of those shown (absent: all). */
  traces?: number[];
  /** Processes tab, several traces compared: the trace of the process picked (absent: the first). */
  trace?: number;
}

export const DEFAULT_STATE: ViewState = {
  file: "",
  tab: "overview",
  range: "30m",
  zoom: null,
  tz: "local",
  src: "auto",
  smooth: 3,
  pause: false,
  top: 5,
  containers: [],
  at: null,
  mode: "auto",
  pid: null,
  ptview: "text",
};

export interface ParsedState {
  state: ViewState;
  /** Messages for values that were rejected (the default was used instead), by control. */
  errors: Partial<
    Record<
      "tz" | "range" | "zoom" | "smooth" | "top" | "src" | "at" | "mode" | "pid" | "proc",
      string
    >
  >;
  /** The text of a rejected field, shown back in it so that a typo can be fixed in place. */
  rejected: { tz?: string };
}

const isTab = (s: string): s is TabName => TABS.some((t) => t.name === s);
const isRange = (s: string): s is RangeName => RANGES.some((r) => r.name === s);

/** True for "UTC" and for every zone the runtime's Intl knows. */
export function isTimeZone(tz: string): boolean {
  if (tz === "" || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false; // RangeError: not a zone Intl knows
  }
}

function int(text: string | null, lo: number, hi: number): number | null {
  if (text === null || !/^\d{1,3}$/.test(text.trim())) return null;
  const n = Number(text);
  return n >= lo && n <= hi ? n : null;
}

/** Reads a view from query parameters; `tab` comes from the path when given. */
export function parseState(q: URLSearchParams, tab?: string): ParsedState {
  const s: ViewState = { ...DEFAULT_STATE, containers: [] };
  const errors: ParsedState["errors"] = {};
  const rejected: ParsedState["rejected"] = {};
  s.file = (q.get("file") ?? "").slice(0, 255);
  const t = tab ?? q.get("tab") ?? "overview";
  if (isTab(t)) s.tab = t;
  const range = q.get("range");
  if (range !== null && range !== "") {
    if (isRange(range)) s.range = range;
    else errors.range = `Unknown range '${range}'; showing 30 min.`;
  }
  const zoom = q.get("zoom");
  if (zoom) {
    const m = /^(\d{1,15})-(\d{1,15})$/.exec(zoom);
    const start = m ? Number(m[1]) : NaN;
    const end = m ? Number(m[2]) : NaN;
    if (m && end > start) s.zoom = { start, end };
    else errors.zoom = `Ignored zoom '${zoom}': expected START-END in epoch milliseconds.`;
  }
  const tz = (q.get("tz") ?? "").trim();
  if (tz !== "" && tz.toLowerCase() !== "local") {
    if (tz.toUpperCase() === "UTC") s.tz = "UTC";
    else if (isTimeZone(tz)) s.tz = tz;
    else {
      rejected.tz = tz.slice(0, 64);
      errors.tz = `'${rejected.tz}' is not a time zone (try UTC or an IANA name such as ` +
        `America/Denver); showing local time.`;
    }
  }
  const src = q.get("src");
  if (src === "local" || src === "UTC" || src === "auto") s.src = src;
  else if (src) errors.src = `Unknown data time zone '${src}'; reading it from the file.`;
  const smooth = q.get("smooth");
  if (smooth !== null && smooth !== "") {
    const n = int(smooth, 1, 10);
    if (n === null) errors.smooth = `Smoothing must be 1 to 10 samples; using 3.`;
    else s.smooth = n;
  }
  s.pause = q.get("pause") === "1" || q.get("pause") === "on";
  const top = q.get("top");
  if (top !== null && top !== "") {
    const n = int(top, 1, 10);
    if (n === null) errors.top = `Top N must be 1 to 10; using 5.`;
    else s.top = n;
  }
  s.containers = [...new Set(q.getAll("c").filter((c) => c !== ""))].slice(0, 50);
  const at = q.get("at");
  if (at) {
    if (/^\d{1,15}$/.test(at)) s.at = Number(at);
    else errors.at = `Ignored process time '${at}': expected epoch milliseconds.`;
  }
  const mode = q.get("mode");
  if (mode !== null && mode !== "") {
    if (MODES.some((m) => m.name === mode)) s.mode = mode as DataMode;
    else errors.mode = `Unknown data source mode '${mode}'; using Auto.`;
  }
  const pid = (q.get("pid") ?? "").trim();
  if (pid !== "") {
    if (/^\d{1,10}$/.test(pid) && Number(pid) >= 1 && Number(pid) <= 4_194_304) s.pid = Number(pid);
    else errors.pid = `'${pid.slice(0, 40)}' is not a process id (a whole number from 1).`;
  }
  if (q.get("pt") === "graph") s.ptview = "graph";
  const proc = q.get("proc");
  if (proc) {
    const m = /^(\d{1,10}):(.*)$/s.exec(proc);
    if (m && m[2]!.length <= 512) s.proc = { pid: Number(m[1]), name: m[2]! };
    else errors.proc = `Ignored process '${proc.slice(0, 40)}': expected PID:NAME.`;
  }
  const find = (q.get("find") ?? "").trim();
  if (find) s.find = find.slice(0, 200);
  const align = q.get("align");
  if (align === "wall" || align === "start") s.align = align;
  const traces = q.get("traces");
  if (traces !== null && /^\d{1,3}(,\d{1,3}){0,63}$/.test(traces)) {
    s.traces = [...new Set(traces.split(",").map(Number))].sort((a, b) => a - b);
  }
  const trace = q.get("trace");
  if (trace !== null && /^\d{1,3}$/.test(trace)) s.trace = Number(trace);
  return { state: s, errors, rejected };
}

/** Query parameters for a view: only what differs from the defaults, in a fixed order. */
export function stateQuery(s: ViewState, opts: { tab?: boolean } = {}): URLSearchParams {
  const q = new URLSearchParams();
  if (s.file) q.set("file", s.file);
  if (opts.tab !== false && s.tab !== DEFAULT_STATE.tab) q.set("tab", s.tab);
  if (s.range !== DEFAULT_STATE.range) q.set("range", s.range);
  if (s.zoom) q.set("zoom", `${Math.round(s.zoom.start)}-${Math.round(s.zoom.end)}`);
  if (s.tz !== DEFAULT_STATE.tz) q.set("tz", s.tz);
  if (s.src !== DEFAULT_STATE.src) q.set("src", s.src);
  if (s.smooth !== DEFAULT_STATE.smooth) q.set("smooth", String(s.smooth));
  if (s.pause) q.set("pause", "1");
  if (s.top !== DEFAULT_STATE.top) q.set("top", String(s.top));
  for (const c of s.containers) q.append("c", c);
  if (s.at !== null) q.set("at", String(Math.round(s.at)));
  if (s.mode !== DEFAULT_STATE.mode) q.set("mode", s.mode);
  if (s.pid !== null) q.set("pid", String(s.pid));
  if (s.ptview !== DEFAULT_STATE.ptview) q.set("pt", s.ptview);
  if (s.proc) q.set("proc", `${s.proc.pid}:${s.proc.name}`);
  if (s.find) q.set("find", s.find);
  if (s.align) q.set("align", s.align);
  if (s.traces) q.set("traces", s.traces.join(","));
  if (s.trace !== undefined) q.set("trace", String(s.trace));
  return q;
}

const withQuery = (path: string, q: URLSearchParams) => {
  const text = q.toString();
  return text ? `${path}?${text}` : path;
};

/** The page URL of a view (what the address bar shows). */
export const pageUrl = (s: ViewState) => withQuery("/", stateQuery(s));

/** The URL of a view's fragment (tab bar, controls and panel). */
export const viewUrl = (s: ViewState) => withQuery(`/tab/${s.tab}`, stateQuery(s, { tab: false }));

/** The URL of a view's panel alone (auto-refresh). */
export const panelUrl = (s: ViewState) =>
  withQuery(`/tab/${s.tab}/panel`, stateQuery(s, { tab: false }));

/** The URL of a view's new samples (live mode: the page polls it with `since=`). */
export const liveUrl = (s: ViewState) =>
  withQuery(`/tab/${s.tab}/live`, stateQuery({ ...s, at: null }, { tab: false }));

/** The length of a view's range, ms (Infinity for All). */
export const rangeMs = (s: ViewState): number => RANGES.find((r) => r.name === s.range)!.ms;

/** The URL of the process list at `at`. */
export const processesUrl = (s: ViewState) =>
  withQuery(`/tab/${s.tab}/processes`, stateQuery(s, { tab: false }));

/** The range a view asks for, epoch ms UTC, given the trace's first and last sample. */
export function viewWindow(
  s: ViewState,
  first: number,
  last: number,
): { start: number; end: number; rangeStart: number } {
  const ms = RANGES.find((r) => r.name === s.range)!.ms;
  const rangeStart = Number.isFinite(ms) ? Math.max(first, last - ms) : first;
  if (s.zoom) {
    const start = Math.max(rangeStart, Math.min(s.zoom.start, last));
    const end = Math.min(last, Math.max(s.zoom.end, start));
    if (end > start) return { start, end, rangeStart };
  }
  return { start: rangeStart, end: last, rangeStart };
}

/** Where a view's range starts, epoch ms UTC, given the trace's first and last sample. */
function rangeStartOf(s: ViewState, first: number, last: number): number {
  const ms = rangeMs(s);
  return Number.isFinite(ms) ? Math.max(first, last - ms) : first;
}

/**
 * The view of a zoom as the page shows it: inside the trace; one that reaches before the
 * range's start (panned or zoomed out past it, or picked from–to) shows All, zoomed; one that
 * covers the whole range is no zoom; one that ends at the newest sample and is as long as a
 * range is that range.
 */
export function fitZoom(s: ViewState, first: number, last: number): ViewState {
  if (!s.zoom) return s;
  const start = Math.max(first, s.zoom.start);
  const end = Math.min(last, s.zoom.end);
  if (!(end > start)) return s; // nothing of the trace: viewWindow shows the range
  if (start <= first && end >= last) return { ...s, range: "all", zoom: null };
  const preset = RANGES.find((r) => r.ms === end - start);
  if (end >= last && preset) return { ...s, range: preset.name, zoom: null };
  const rangeStart = rangeStartOf(s, first, last);
  if (start < rangeStart) return { ...s, range: "all", zoom: { start, end } };
  if (start <= rangeStart && end >= last) return { ...s, zoom: null };
  return { ...s, zoom: { start, end } };
}

/** The trace's first and last sample, and the window shown: what time navigation moves. */
export interface Shown {
  first: number;
  last: number;
  start: number;
  end: number;
}

/** A window of `span` ms starting at `start`, moved inside the trace. */
function placed(w: Shown, start: number, span: number): { start: number; end: number } {
  const a = Math.max(w.first, Math.min(start, w.last - span));
  return { start: a, end: Math.min(w.last, a + span) };
}

/** The view panned by half its span, earlier (-1) or later (1); null at the trace's edge. */
export function panned(s: ViewState, w: Shown, dir: -1 | 1): ViewState | null {
  const span = w.end - w.start;
  const next = placed(w, w.start + (dir * span) / 2, span);
  if (Math.abs(next.start - w.start) < 1) return null;
  return fitZoom({ ...s, zoom: next }, w.first, w.last);
}

/**
 * The view zoomed out 2×: around its middle when zoomed, else back from its end (kept inside
 * the trace); null when it shows the whole trace already.
 */
export function steppedOut(s: ViewState, w: Shown): ViewState | null {
  if (w.start <= w.first && w.end >= w.last) return null;
  const span = w.end - w.start;
  const start = s.zoom ? (w.start + w.end) / 2 - span : w.end - 2 * span;
  return fitZoom({ ...s, zoom: placed(w, start, 2 * span) }, w.first, w.last);
}
