// The dashboard view: controls, tab bar and panel. Rendered inside the page and alone as the
// fragment of /tab/:name (its root is its own swap target); every link and control asks the
// server for the next view, whose canonical page URL comes back in HX-Push-Url.
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, and hono/jsx
// would write `key` into the HTML.
import type { PageModel } from "./model.ts";
import { Panel } from "./panel.tsx";
import { MODES, pageUrl, RANGES, TABS, type ViewState, viewUrl } from "./state.ts";
import { Time } from "./time.tsx";

export function View({ m }: { m: PageModel }) {
  return (
    <div id="view" hx-target="this" hx-swap="outerHTML" hx-sync="this:replace">
      <Controls m={m} />
      <main>
        <TabBar s={m.state} />
        <Panel m={m} />
      </main>
    </div>
  );
}

/** A link to another view: a plain link without script, a fragment request with htmx. */
function ViewLink(props: { s: ViewState; current: boolean; children: unknown; class?: string }) {
  return (
    <a
      href={pageUrl(props.s)}
      hx-get={viewUrl(props.s)}
      class={props.class}
      aria-current={props.current ? "page" : undefined}
    >
      {props.children}
    </a>
  );
}

function TabBar({ s }: { s: ViewState }) {
  return (
    <nav class="tabs" aria-label="Tabs">
      {TABS.map((t) => (
        <ViewLink s={{ ...s, tab: t.name }} current={t.name === s.tab}>{t.label}</ViewLink>
      ))}
    </nav>
  );
}

function Controls({ m }: { m: PageModel }) {
  return (
    <aside class="sidebar">
      <h2>Time &amp; display</h2>
      <RangeField m={m} />
      <ControlsForm m={m} />
      <ExportBox m={m} />
    </aside>
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
            <ViewLink s={{ ...s, range: r.name, zoom: null }} current={r.name === s.range}>
              {r.label}
            </ViewLink>
          ))}
        </div>
        <p class="hint">Counted back from the newest sample. Drag on a chart to zoom.</p>
        {e.range ? <p class="error">{e.range}</p> : null}
      </div>
      {s.zoom
        ? (
          <div class="field zoom">
            <span class="label">Zoomed</span>
            <span>
              <Time ms={s.zoom.start} /> to <Time ms={s.zoom.end} />
            </span>
            <ViewLink s={{ ...s, zoom: null }} current={false} class="button">Reset zoom</ViewLink>
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
      hx-trigger="change, submit"
      hx-sync="this:drop"
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
          value={s.tz === "local" ? "Local" : s.tz}
          autocomplete="off"
          spellcheck={false}
          aria-invalid={e.tz ? "true" : undefined}
        />
        <span class="hint">
          Local (this browser), UTC, or an IANA zone such as America/Denver.
        </span>
      </label>
      {e.tz ? <p class="error" role="alert">{e.tz}</p> : null}
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
          Live: new samples are added to the charts as they are taken (tracing here, or a file
          another sysmon run writes); File: the file as written, read again when it changes.
        </span>
      </label>
      {e.mode ? <p class="error">{e.mode}</p> : null}
      <ContainerFields m={m} />
      {s.pid !== null ? <input type="hidden" name="pid" value={String(s.pid)} /> : null}
      {s.ptview !== "text" ? <input type="hidden" name="pt" value={s.ptview} /> : null}
      <button type="submit">Apply</button>
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
      <h2>Export</h2>
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
