// The dashboard view: controls, tab bar and panel. Rendered inside the page and alone as the
// fragment of /tab/:name (its root is its own swap target); every link and control asks the
// server for the next view, whose canonical page URL comes back in HX-Push-Url.
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, and hono/jsx
// would write `key` into the HTML.
import { FoldTitle } from "./fold.tsx";
import type { PageModel } from "./model.ts";
import { Panel } from "./panel.tsx";
import { CompareBar } from "./compare.tsx";
import {
  MODES,
  pageUrl,
  panned,
  RANGES,
  type Shown,
  steppedOut,
  TABS,
  type ViewState,
  viewUrl,
} from "./state.ts";
import { fromStarts, Time } from "./time.tsx";

export function View({ m }: { m: PageModel }) {
  return (
    <div id="view" hx-target="this" hx-swap="outerHTML" hx-sync="this:replace">
      <Controls m={m} />
      <main id="main" tabindex={-1}>
        <TabBar s={m.state} />
        {m.compare ? <CompareBar s={m.state} m={m.compare} /> : null}
        <Panel m={m} />
      </main>
    </div>
  );
}

/** A link to another view: a plain link without script, a fragment request with htmx. */
function ViewLink(
  props: { s: ViewState; current: boolean; children: unknown; class?: string; id?: string },
) {
  return (
    <a
      id={props.id}
      href={pageUrl(props.s)}
      hx-get={viewUrl(props.s)}
      class={props.class}
      aria-current={props.current ? "page" : undefined}
    >
      {props.children}
    </a>
  );
}

/**
 * The tabs, as the WAI-ARIA tabs pattern has them: one Tab stop (the selected tab), the arrow
 * keys, Home and End move between them (static/js/keys.js), Enter or a click chooses one.
 */
function TabBar({ s }: { s: ViewState }) {
  return (
    <nav class="tabs" aria-label="Tabs">
      <div role="tablist" aria-label="Views of the trace">
        {TABS.map((t) => {
          const selected = t.name === s.tab;
          const to = { ...s, tab: t.name };
          return (
            <a
              id={`tab-${t.name}`}
              role="tab"
              href={pageUrl(to)}
              hx-get={viewUrl(to)}
              aria-selected={selected ? "true" : "false"}
              aria-controls={selected ? "panel" : undefined}
              tabindex={selected ? 0 : -1}
            >
              {t.label}
            </a>
          );
        })}
      </div>
    </nav>
  );
}

function Controls({ m }: { m: PageModel }) {
  return (
    <aside class="sidebar controls" aria-label="Time and display">
      <section class="side-box">
        <FoldTitle id="time" title="Time & display" />
        <RangeField m={m} />
        <TimeNav m={m} />
        <ControlsForm m={m} />
      </section>
      <section class="side-box">
        <FoldTitle id="export" title="Export" />
        <ExportBox m={m} />
      </section>
    </aside>
  );
}

/** A link to a view nearby in time, or a disabled one where there is none. */
function NavLink(props: { to: ViewState | null; id: string; title: string; children: unknown }) {
  if (!props.to) {
    return (
      <a id={props.id} class="disabled" aria-disabled="true" title={props.title}>
        {props.children}
      </a>
    );
  }
  return (
    <a id={props.id} href={pageUrl(props.to)} hx-get={viewUrl(props.to)} title={props.title}>
      {props.children}
    </a>
  );
}

/**
 * Earlier, later and zoom out (each a view, so a link), and a from–to picker in the display
 * zone (static/js/zoom.js reads it, and zooms by the wheel and pans by Shift + drag).
 */
function TimeNav({ m }: { m: PageModel }) {
  const s = m.state;
  const first = m.meta?.first, last = m.meta?.last;
  const w: Shown | null = m.window && first != null && last != null
    ? { first, last, start: m.window.start, end: m.window.end }
    : null;
  return (
    <div class="field time-nav">
      <span class="label" id="nav-label">Move in time</span>
      <div class="segmented" role="group" aria-labelledby="nav-label">
        <NavLink to={w && panned(s, w, -1)} id="nav-earlier" title="Half a window earlier (←)">
          ← Earlier
        </NavLink>
        <NavLink to={w && panned(s, w, 1)} id="nav-later" title="Half a window later (→)">
          Later →
        </NavLink>
        <NavLink to={w && steppedOut(s, w)} id="nav-out" title="Twice the span (−)">
          Zoom out 2×
        </NavLink>
      </div>
      <p class="hint">
        On a chart: drag or Ctrl + wheel zooms, Shift + drag or ← → moves, − zooms out.
      </p>
      {fromStarts(m) ? null : <FromTo />}
    </div>
  );
}

/** The from–to picker (static/js/zoom.js fills it with the window, in the display zone). */
function FromTo() {
  return (
    <details class="from-to-box">
      <summary>From – to…</summary>
      <form id="from-to" class="from-to" action="/" method="get">
        <label class="field">
          <span class="label">From</span>
          <input type="datetime-local" name="from" step="1" required />
        </label>
        <label class="field">
          <span class="label">To</span>
          <input type="datetime-local" name="to" step="1" required />
        </label>
        <p class="hint">
          In the display time zone (<span class="tz-name">Local</span>).
        </p>
        <div class="buttons">
          <button type="submit" id="from-to-show">Show</button>
        </div>
      </form>
    </details>
  );
}

/** The time range buttons, and the zoom when there is one. */
function RangeField({ m }: { m: PageModel }) {
  const s = m.state;
  const e = m.errors;
  return (
    <>
      <div class="field">
        <span class="label" id="range-label">Time range</span>
        <div class="segmented" role="group" aria-labelledby="range-label">
          {RANGES.map((r) => (
            <ViewLink
              s={{ ...s, range: r.name, zoom: null }}
              current={r.name === s.range}
              id={`range-${r.name}`}
            >
              {r.label}
            </ViewLink>
          ))}
        </div>
        <p class="hint">Counted back from the newest sample.</p>
        {e.range ? <p class="error">{e.range}</p> : null}
      </div>
      {s.zoom
        ? (
          <div class="field zoom">
            <span class="label">Zoomed</span>
            <span>
              <Time ms={s.zoom.start} /> to <Time ms={s.zoom.end} />
            </span>
            <ViewLink s={{ ...s, zoom: null }} current={false} class="button" id="reset-zoom">
              Reset zoom
            </ViewLink>
          </div>
        )
        : null}
      {e.zoom ? <p class="error">{e.zoom}</p> : null}
    </>
  );
}

/** Zones, smoothing, pause, mode and the containers picked: a GET form the panel follows. */
function ControlsForm({ m }: { m: PageModel }) {
  const s = m.state;
  const e = m.errors;
  const fileZone = m.meta?.dataTimezone;
  return (
    <form
      id="controls"
      action="/"
      method="get"
      hx-get={`/tab/${s.tab}`}
      hx-trigger="submit"
      hx-sync="this:replace"
    >
      <input type="hidden" name="tab" value={s.tab} />
      {s.file ? <input type="hidden" name="file" value={s.file} /> : null}
      <input type="hidden" name="range" value={s.range} />
      {s.zoom ? <input type="hidden" name="zoom" value={`${s.zoom.start}-${s.zoom.end}`} /> : null}
      {s.at !== null ? <input type="hidden" name="at" value={String(s.at)} /> : null}
      <label class="field">
        <span class="label">Display time zone</span>
        <input
          name="tz"
          list="tz-zones"
          value={m.rejected?.tz ?? (s.tz === "local" ? "Local" : s.tz)}
          autocomplete="off"
          spellcheck={false}
          aria-invalid={e.tz ? "true" : undefined}
          aria-describedby={e.tz ? "tz-error" : undefined}
        />
        <span class="hint">
          Local (this browser), UTC, or an IANA zone such as America/Denver.
        </span>
      </label>
      {e.tz ? <p class="error" id="tz-error" role="alert">{e.tz}</p> : null}
      <label class="field">
        <span class="label">Data time zone (source)</span>
        <select name="src">
          <option value="auto" selected={s.src === "auto"}>
            {fileZone ? `From the file (${fileZone})` : "From the file (it has none)"}
          </option>
          <option value="local" selected={s.src === "local"}>Local ({m.serverZone})</option>
          <option value="UTC" selected={s.src === "UTC"}>UTC</option>
        </select>
        <span class="hint">
          For files without zone metadata: UTC if the tracer ran with --utc.
        </span>
      </label>
      {e.src ? <p class="error">{e.src}</p> : null}
      <label class="field">
        <span class="label">Smoothing (samples)</span>
        <input type="number" name="smooth" min="1" max="10" step="1" value={String(s.smooth)} />
        <span class="hint">Trailing mean; 1 = off.</span>
      </label>
      {e.smooth ? <p class="error">{e.smooth}</p> : null}
      <label class="field check">
        <input type="checkbox" name="pause" value="1" checked={s.pause} />
        <span>Pause auto-refresh</span>
      </label>
      <label class="field">
        <span class="label">Data source mode</span>
        <select name="mode">
          {MODES.map((d) => (
            <option value={d.name} selected={s.mode === d.name}>
              {d.label}
            </option>
          ))}
        </select>
        <span class="hint">
          Live: samples are added as they are taken; File: the file as written.
        </span>
      </label>
      {e.mode ? <p class="error">{e.mode}</p> : null}
      <ContainerFields m={m} />
      {s.pid !== null ? <input type="hidden" name="pid" value={String(s.pid)} /> : null}
      {s.ptview !== "text" ? <input type="hidden" name="pt" value={s.ptview} /> : null}
      {s.proc ? <input type="hidden" name="proc" value={`${s.proc.pid}:${s.proc.name}`} /> : null}
      {s.find ? <input type="hidden" name="find" value={s.find} /> : null}
      <button type="submit" class="primary" id="apply">Apply</button>
      <p class="hint">What is typed applies with Enter or Apply; choices at once.</p>
    </form>
  );
}

/** The Containers tab's picks (top N, or named ones); elsewhere kept as hidden fields. */
function ContainerFields({ m }: { m: PageModel }) {
  const s = m.state;
  const e = m.errors;
  const containers = m.tab?.containers;
  return (
    <>
      {s.tab === "containers" && containers && containers.all.length > 0
        ? (
          <fieldset class="field containers">
            <legend>Containers</legend>
            <label>
              <span class="label">Top N by CPU (when none is picked)</span>
              <input type="number" name="top" min="1" max="10" value={String(s.top)} />
            </label>
            {e.top ? <p class="error">{e.top}</p> : null}
            <div class="picks">
              {containers.all.map((name) => (
                <label class="check">
                  <input
                    type="checkbox"
                    name="c"
                    value={name}
                    checked={s.containers.includes(name)}
                  />
                  <span>{name}</span>
                </label>
              ))}
            </div>
          </fieldset>
        )
        : (
          <>
            {s.top !== 5 ? <input type="hidden" name="top" value={String(s.top)} /> : null}
            {s.containers.map((c) => <input type="hidden" name="c" value={c} />)}
          </>
        )}
    </>
  );
}

function ExportBox({ m }: { m: PageModel }) {
  return (
    <>
      <p>
        {m.window
          ? (
            <a class="button" href={exportUrl(m)} download>
              Download CSV (this range)
            </a>
          )
          : <span class="hint">Nothing to export yet.</span>}
      </p>
      <p class="hint">Each chart has a PNG button.</p>
    </>
  );
}

/** The CSV of the window shown, every column. */
export function exportUrl(m: PageModel): string {
  const q = new URLSearchParams();
  if (m.window) {
    q.set("start", String(Math.floor(m.window.start)));
    q.set("end", String(Math.ceil(m.window.end)));
  }
  if (m.state.src !== "auto") q.set("source_tz", m.state.src === "UTC" ? "UTC" : m.serverZone);
  return `/api/export.csv?${q}`;
}
