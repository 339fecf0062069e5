// The sections beside the view: live tracing, events and watch points. They live outside
// #view (navigating between tabs never resets what is typed into them); each is its own swap
// target, answered by the /ui/* routes of src/server/routes/ui.ts after every action.
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, and hono/jsx
// would write `key` into the HTML.
import { JsonData } from "./chart.tsx";
import { FoldTitle } from "./fold.tsx";
import type {
  EventsModel,
  Message,
  SideModel,
  TraceStatusModel,
  TracingModel,
  WatchModel,
} from "./model.ts";
import { Time } from "./time.tsx";

/** Events listed in the sidebar at most (markers and the CSV export have them all). */
export const LISTED_EVENTS = 100;

export function LiveSidebar({ side }: { side: SideModel }) {
  return (
    <aside class="sidebar live-side" aria-label="Live tracing, events and watch points">
      <Tracing t={side.tracing} />
      <Events e={side.events} />
      <Watch w={side.watch} />
    </aside>
  );
}

function Note({ message }: { message: Message | null }) {
  if (!message) return null;
  return (
    <p
      class={message.kind === "error" ? "error" : "ok"}
      role={message.kind === "error" ? "alert" : "status"}
    >
      {message.text}
    </p>
  );
}

// ---- tracing

export function Tracing({ t }: { t: TracingModel }) {
  const running = t.status.running;
  const f = t.form;
  return (
    <section
      id="tracing"
      class="side-box"
      hx-target="this"
      hx-swap="outerHTML"
      data-running={running ? "1" : "0"}
    >
      <FoldTitle id="tracing" title="Live tracing" />
      <form hx-post="/ui/trace/start" class="trace-form" id="trace-form">
        <label class="field">
          <span class="label">Output file</span>
          <input
            name="output"
            value={f.output}
            disabled={running}
            autocomplete="off"
            spellcheck={false}
          />
          <span class="hint">
            .parquet or .csv, inside <code class="path">{t.dataDir}</code>
          </span>
        </label>
        <div class="pair">
          <label class="field">
            <span class="label">Sampling (s)</span>
            <input
              type="number"
              name="sampleInterval"
              min="0.1"
              step="any"
              value={String(f.sampleInterval)}
              disabled={running}
            />
          </label>
          <label class="field">
            <span class="label">Write interval (s)</span>
            <input
              type="number"
              name="writeInterval"
              min="0.1"
              step="any"
              value={String(f.writeInterval)}
              disabled={running}
            />
          </label>
        </div>
        <label class="check">
          <input type="checkbox" name="enableGpu" checked={f.enableGpu} disabled={running} />
          <span>Enable GPU</span>
        </label>
        <label class="check">
          <input type="checkbox" name="enableDocker" checked={f.enableDocker} disabled={running} />
          <span>Enable Docker</span>
        </label>
        <label class="check">
          <input type="checkbox" name="utc" checked={f.useUtc} disabled={running} />
          <span>UTC timestamps</span>
        </label>
        <div class="buttons">
          <button type="submit" class="primary" id="trace-start" disabled={running}>Start</button>
          <button type="button" id="trace-stop" hx-post="/ui/trace/stop" disabled={!running}>
            Stop
          </button>
          <button
            type="button"
            hx-post="/ui/trace/reset"
            hx-confirm="Reset: keep the trace so far as a numbered file beside it and start an empty one?"
            disabled={t.status.state === "idle"}
          >
            Reset
          </button>
          <button type="button" hx-post="/ui/trace/snapshot" disabled={!running}>
            Snapshot now
          </button>
        </div>
      </form>
      <Note message={t.message} />
      <TraceStatus s={t.status} />
    </section>
  );
}

const STATE_LABEL: Record<TraceStatusModel["state"], string> = {
  idle: "Not tracing",
  starting: "Starting…",
  running: "Tracing",
  stopping: "Stopping…",
  stopped: "Stopped",
  failed: "Failed",
};

function size(bytes: number | null): string {
  if (bytes === null) return "no file yet";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** The status line; it polls itself (static/js/live.js reloads the view when Auto changes). */
export function TraceStatus({ s }: { s: TraceStatusModel }) {
  const poll = s.running || s.state === "starting" || s.state === "stopping" ? 1 : 3;
  return (
    <div
      id="trace-status"
      class={`trace-status state-${s.state}`}
      role="status"
      hx-get="/ui/trace/status"
      hx-trigger={`every ${poll}s`}
      hx-target="this"
      hx-swap="outerHTML"
      data-state={s.state}
      data-live-now={s.liveNow ? "1" : "0"}
      data-samples={String(s.samples)}
    >
      <p class="status-head">
        <span class="badge">{STATE_LABEL[s.state]}</span>
        {s.following && !s.running ? <span class="badge follow">Following the file</span> : null}
      </p>
      <dl class="status-grid">
        <dt>File</dt>
        <dd>
          <code class="path">{s.file}</code>
        </dd>
        <dt>Samples</dt>
        <dd class="samples">{s.samples.toLocaleString("en-US")}</dd>
        <dt>Rows written</dt>
        <dd class="rows-written">{s.rowsWritten.toLocaleString("en-US")}</dd>
        <dt>Size</dt>
        <dd>{size(s.fileBytes)}</dd>
        <dt>Last write</dt>
        <dd>{s.lastWrite ? <Time ms={Date.parse(s.lastWrite)} /> : "none yet"}</dd>
        {s.lateMs !== null
          ? (
            <>
              <dt>Sampling jitter</dt>
              <dd>{`${s.lateMs.toFixed(1)} ms`}</dd>
            </>
          )
          : null}
        <dt>Last error</dt>
        <dd class={s.error ? "status-error" : undefined}>{s.error ?? "none"}</dd>
      </dl>
      {s.unavailable.length > 0
        ? <p class="hint">Not sampled: {s.unavailable.join(", ")}</p>
        : null}
      {s.followProblem ? <p class="error">{s.followProblem}</p> : null}
      {s.notices.filter((n) => !s.unavailable.some((u) => u.includes(n))).slice(-3).map((n) => (
        <p class="hint notice-line">{n}</p>
      ))}
    </div>
  );
}

// ---- events

export function Events({ e }: { e: EventsModel }) {
  return (
    <section id="events" class="side-box" hx-target="this" hx-swap="outerHTML">
      <FoldTitle id="events" title="Events" />
      <form hx-post="/ui/events" class="event-form" id="event-form">
        <label class="field">
          <span class="label">Name</span>
          <input name="name" maxlength={200} required autocomplete="off" />
        </label>
        <div class="pair">
          <label class="field">
            <span class="label">Date</span>
            <input type="date" name="date" />
          </label>
          <label class="field">
            <span class="label">Time</span>
            <input type="time" name="time" step="1" />
          </label>
        </div>
        <span class="hint">
          In the display time zone (<span class="tz-name">Local</span>); no date: today.
        </span>
        <input type="hidden" name="zone" value="" data-display-zone />
        <div class="buttons">
          <button type="submit" class="primary" id="event-add">Add</button>
          <button type="button" id="event-add-now" hx-post="/ui/events/now">Add now</button>
        </div>
      </form>
      <Note message={e.message} />
      {e.lines.length > 0
        ? (
          <ul class="line-errors" role="alert">
            {e.lines.map((l) => <li>line {String(l.line)}: {l.message}</li>)}
          </ul>
        )
        : null}
      <form
        hx-post="/ui/events/import"
        hx-encoding="multipart/form-data"
        class="event-import"
      >
        <label class="field">
          <span class="label">Import CSV (event,timestamp)</span>
          <input type="file" name="file" accept=".csv,text/csv,text/plain" required />
        </label>
        <input type="hidden" name="zone" value="" data-display-zone />
        <div class="buttons">
          <button type="submit">Import CSV</button>
          <a class="button" href="/api/events/export.csv" download>Export CSV</a>
          <button
            type="button"
            hx-post="/ui/events/clear"
            hx-confirm="Remove every event of this trace?"
          >
            Clear
          </button>
        </div>
      </form>
      <label class="check">
        <input type="checkbox" id="show-markers" checked />
        <span>Show event markers</span>
      </label>
      <EventList e={e} />
    </section>
  );
}

/** The list, polled (204 while unchanged): automatic events appear without a reload. */
export function EventList({ e }: { e: EventsModel }) {
  const newest = e.events.slice(-LISTED_EVENTS).reverse();
  return (
    <div
      id="events-list"
      class="events-list"
      hx-get={`/ui/events/list?v=${encodeURIComponent(e.version)}`}
      hx-trigger="every 3s"
      hx-target="this"
      hx-swap="outerHTML"
      data-count={String(e.events.length)}
    >
      {e.problem ? <p class="error">{e.problem}</p> : null}
      <p class="hint">
        {e.events.length === 0
          ? "No events yet."
          : `${e.events.length.toLocaleString("en-US")} event${e.events.length === 1 ? "" : "s"}${
            e.events.length > LISTED_EVENTS ? `, the newest ${LISTED_EVENTS} listed` : ""
          }.`}
      </p>
      {newest.length > 0
        ? (
          <ul>
            {newest.map((ev) => (
              <li class={`event ${ev.kind}`} data-id={ev.id}>
                <span class="event-text">
                  <span class="event-name" title={ev.name}>{ev.name}</span>
                  <Time ms={ev.at} />
                  {ev.end !== undefined
                    ? (
                      <span class="event-end">
                        to <Time ms={ev.end} />
                      </span>
                    )
                    : null}
                  {ev.kind === "auto" ? <span class="badge auto">auto</span> : null}
                </span>
                <button
                  type="button"
                  class="delete"
                  hx-delete={`/ui/events/${encodeURIComponent(ev.id)}`}
                  hx-target="#events"
                  title="Delete this event"
                  aria-label={`Delete event ${ev.name}`}
                >
                  Delete
                </button>
              </li>
            ))}
          </ul>
        )
        : null}
      <JsonData
        id="events-data"
        value={e.events.map((ev) => ({
          id: ev.id,
          name: ev.name,
          at: ev.at,
          kind: ev.kind,
          end: ev.end,
        }))}
      />
    </div>
  );
}

// ---- watch points

export function Watch({ w }: { w: WatchModel }) {
  return (
    <section id="watch" class="side-box" hx-target="this" hx-swap="outerHTML">
      <FoldTitle id="watch" title="Watch points" />
      <form hx-post="/ui/watch" class="watch-form">
        {w.metrics.map((m) => {
          const v = w.thresholds[m.key];
          return (
            <label class="field inline">
              <span class="label">{m.title} &gt;</span>
              <input
                type="number"
                name={m.key}
                min="0"
                max={m.unit === "%" ? "100" : undefined}
                step="any"
                value={v === null || v === undefined ? "" : String(v)}
                placeholder="off"
              />
            </label>
          );
        })}
        <label class="field inline">
          <span class="label">For (s)</span>
          <input
            type="number"
            name="for"
            min="0"
            max="86400"
            step="any"
            value={String(w.forSeconds)}
          />
        </label>
        <label class="field">
          <span class="label">Webhook (http or https URL)</span>
          <input type="url" name="webhook" value={w.webhook ?? ""} placeholder="off" />
        </label>
        <div class="buttons">
          <button type="submit" class="primary">Save</button>
          <button
            type="button"
            hx-post="/ui/events/clear"
            name="kind"
            value="auto"
            hx-target="#events"
          >
            Clear auto events
          </button>
        </div>
      </form>
      <p class="hint">
        A value above its threshold for the seconds in For fires one automatic event, e.g. "CPU%
        &gt; 90 (now 93.2)", that ends once the value has been back at or below it as long; each
        firing is POSTed as JSON to the webhook, from the server. Checked on every sample while
        tracing or following the file. Empty: off.
      </p>
      {w.problem ? <p class="error">{w.problem}</p> : null}
      {w.notice ? <p class="error webhook-notice">{w.notice}</p> : null}
      <Note message={w.message} />
    </section>
  );
}
