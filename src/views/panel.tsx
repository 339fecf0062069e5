// The panel of a tab: where the data comes from, cards, charts, the process list and the data
// the charts draw. Its own swap target: auto-refresh replaces it alone (204 when nothing changed).
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, and hono/jsx
// would write `key` into the HTML.
import { traceSet } from "./compare.tsx";
import { Chart, JsonData } from "./chart.tsx";
import { type CardModel, formatValue, topProcesses } from "./charts.ts";
import type { PageModel, ProcessesModel, TraceProcessesModel } from "./model.ts";
import { ProcessesBody } from "./processes.tsx";
import { ProcTreePanel } from "./proctree.tsx";
import { panelUrl, processesUrl, viewUrl } from "./state.ts";
import { fromStarts, PageTime } from "./time.tsx";

const withVersion = (url: string, v: string) =>
  `${url}${url.includes("?") ? "&" : "?"}v=${encodeURIComponent(v)}`;

/**
 * The panel is the tab panel of the selected tab (WAI-ARIA tabs); focusable, so that the arrow
 * keys move its time window (static/js/zoom.js) once it is clicked or tabbed to.
 */
const tabPanel = (tab: string) => ({
  role: "tabpanel",
  "aria-labelledby": `tab-${tab}`,
  tabindex: 0,
});

export function Panel({ m }: { m: PageModel }) {
  const s = m.state;
  if (s.tab === "proctree") {
    return (
      <section
        id="panel"
        class="panel tab-proctree"
        hx-swap="outerHTML"
        hx-target="#view"
        data-tab={s.tab}
        data-tz={s.tz}
        data-mode={s.mode}
        data-live="0"
        {...tabPanel(s.tab)}
      >
        {m.proctree ? <ProcTreePanel m={m} /> : null}
      </section>
    );
  }
  // Live: static/js/live.js asks for the samples newer than the panel's and appends them.
  const live = m.live && !m.problem ? m.live : null;
  // A problem re-polls the whole view (controls depend on the file); data re-polls the panel.
  const poll = m.problem
    ? {
      "hx-get": withVersion(viewUrl(s), m.version),
      "hx-trigger": `every ${m.problem.kind === "waiting" ? 2 : 5}s`,
      "hx-target": "#view",
    }
    : s.pause || live
    ? { "hx-target": "this" }
    : {
      "hx-get": `${withVersion(panelUrl(s), m.version)}&set=${traceSet(m.compare)}`,
      "hx-trigger": `every ${Math.max(1, Math.round(m.refreshMs / 1000))}s`,
      "hx-target": "this",
    };
  const zoomBase = new URLSearchParams(viewUrl({ ...s, zoom: null }).split("?")[1] ?? "");
  return (
    <section
      id="panel"
      class={`panel tab-${s.tab}`}
      hx-swap="outerHTML"
      {...poll}
      data-tab={s.tab}
      data-tz={fromStarts(m) ? "UTC" : s.tz}
      data-align={m.compare?.drawn ? m.compare.align : undefined}
      data-smooth={String(s.smooth)}
      data-view={`/tab/${s.tab}?${zoomBase}`}
      data-procs={s.tab === "cpu" ? processesUrl({ ...s, at: null }) : undefined}
      data-zoom={s.zoom ? `${s.zoom.start}-${s.zoom.end}` : undefined}
      data-start={m.window ? String(m.window.start) : undefined}
      data-end={m.window ? String(m.window.end) : undefined}
      data-mode={s.mode}
      data-problem={m.problem?.kind}
      data-live={live ? "1" : "0"}
      data-paused={s.pause ? "1" : undefined}
      data-live-url={live?.url}
      data-since={live ? String(live.since) : undefined}
      data-epoch={live ? String(live.epoch) : undefined}
      data-sig={live?.sig}
      data-range-ms={live ? String(live.rangeMs) : undefined}
      data-first={m.meta?.first != null ? String(m.meta.first) : undefined}
      data-last={m.meta?.last != null ? String(m.meta.last) : undefined}
      data-rows={m.tab ? String(m.tab.rows) : undefined}
      {...tabPanel(s.tab)}
    >
      <SourceLine m={m} />
      {m.modeNote ? <p class="notice mode-note">{m.modeNote}</p> : null}
      {m.meta?.notices.map((n) => <p class="notice">{n}</p>)}
      {m.problem ? <Problem problem={m.problem} file={m.file} /> : <TabBody m={m} />}
    </section>
  );
}

function SourceLine({ m }: { m: PageModel }) {
  const meta = m.meta;
  const w = m.window;
  const elapsed = fromStarts(m);
  const src = m.state.src === "auto"
    ? meta?.dataTimezone
      ? `${meta.dataTimezone} (from the file)`
      : `none in the file; read as ${meta?.sourceZone ?? "?"}`
    : m.state.src === "UTC"
    ? "UTC (set here)"
    : `Local: ${m.serverZone} (set here)`;
  return (
    <div class="source-line">
      <span>
        {m.compare
          ? (
            <>
              Traces {m.compare.traces.filter((t) => t.shown).map((t, k) => (
                <>
                  {k > 0 ? ", " : ""}
                  <code>{t.path}</code>
                </>
              ))}
            </>
          )
          : (
            <>
              File <code>{m.file}</code>
            </>
          )}
        {meta
          ? ` (${meta.format}, ${meta.rows.toLocaleString("en-US")} samples${
            meta.host ? `, ${m.compare ? "hosts" : "host"} ${meta.host}` : ""
          })`
          : ""}
      </span>
      {meta ? <span>Data time zone: {src}</span> : null}
      <span>
        Display time zone:{" "}
        <span class="tz-name" data-tz={m.state.tz}>
          {m.state.tz === "local" ? "Local" : m.state.tz}
        </span>
      </span>
      {meta?.last != null
        ? (
          <span class="newest">
            Newest sample: <PageTime ms={meta.last} elapsed={elapsed} />
          </span>
        )
        : null}
      {m.live ? <span class="live-badge">Live</span> : null}
      {w && m.tab
        ? (
          <span class="window">
            Showing <PageTime ms={w.start} elapsed={elapsed} /> to{" "}
            <PageTime ms={w.end} elapsed={elapsed} />:{" "}
            <span class="window-rows">{m.tab.rows.toLocaleString("en-US")}</span> samples
            {m.tab.blocks[0]?.reduced ? `, reduced to ${m.tab.blocks[0].dt.length + 1} points` : ""}
          </span>
        )
        : null}
      {m.fileNote ? <p class="notice">{m.fileNote}</p> : null}
    </div>
  );
}

export function Problem(props: { problem: NonNullable<PageModel["problem"]>; file: string }) {
  const waiting = props.problem.kind === "waiting";
  return (
    <div class={`problem ${props.problem.kind}`} role={waiting ? "status" : "alert"}>
      <h2>{waiting ? "Waiting for the trace" : "This trace cannot be shown"}</h2>
      <p class="message">{props.problem.message}</p>
      <p class="hint">
        {waiting
          ? `The page checks every 2 seconds and shows ${props.file} as soon as it appears ` +
            "(Start, under Live tracing, traces into it)."
          : "The page checks again every 5 seconds; fix or replace the file and it appears here."}
      </p>
    </div>
  );
}

function TabBody({ m }: { m: PageModel }) {
  if (m.state.tab === "processes") return <ProcessesBody m={m} />;
  const tab = m.tab;
  if (!tab) return <p class="note">No samples in this trace yet.</p>;
  return (
    <>
      {tab.notes.map((n) => <p class="note">{n}</p>)}
      {tab.cards.length ? <Cards cards={tab.cards} /> : null}
      <div class="charts">
        {tab.charts.map((c) => <Chart chart={c} />)}
      </div>
      {m.state.tab === "cpu" ? <Processes m={m} /> : null}
      <JsonData class="tab-data" value={{ blocks: tab.blocks }} />
    </>
  );
}

function Cards({ cards }: { cards: CardModel[] }) {
  return (
    <div class="cards">
      {cards.map((c) => (
        <div class="card" id={`card-${c.id}`}>
          <div class="card-label">{c.label}</div>
          {c.perTrace
            ? (
              <ul class="card-traces">
                {c.perTrace.map((p) => (
                  <li class="card-value" data-trace={String(p.trace)}>
                    <i class="trace-swatch" data-trace={String(p.trace)} />
                    {p.value} <span class="card-trace-name">{p.name}</span>
                  </li>
                ))}
              </ul>
            )
            : <div class="card-value">{c.value}</div>}
          {c.spark !== null
            ? (
              <div class="spark" data-chart={`spark-${c.id}`}>
                <div class="plot" />
                <JsonData
                  class="chart-config"
                  value={{
                    id: `spark-${c.id}`,
                    title: c.label,
                    unit: c.unit,
                    kind: "spark",
                    block: 0,
                    series: c.sparks ?? [{ label: c.sparkLabel ?? c.label, i: c.spark }],
                    y: null,
                    bars: null,
                  }}
                />
              </div>
            )
            : null}
        </div>
      ))}
    </div>
  );
}

function Processes({ m }: { m: PageModel }) {
  return (
    <section class="processes-box">
      <h2>Processes at the cursor</h2>
      <p class="hint">
        {m.processesByTrace
          ? "Click a chart to list each trace's processes of that moment."
          : "Click a chart to list the processes of that moment."}
      </p>
      {m.processesByTrace
        ? <TracesProcessTables list={m.processesByTrace} elapsed={fromStarts(m)} />
        : m.processes
        ? <ProcessTable p={m.processes} />
        : <div id="procs" />}
    </section>
  );
}

/** Several traces compared: each one's processes at the time, headed by its name and colour. */
export function TracesProcessTables(
  { list, elapsed }: { list: TraceProcessesModel[]; elapsed: boolean },
) {
  return (
    <div id="procs" class="procs procs-traces">
      {list.map((t) => (
        <section
          class="procs-trace"
          data-trace={String(t.slot)}
          aria-label={`Processes of ${t.name}`}
        >
          <h3>
            <i class="trace-swatch" data-trace={String(t.slot)} /> {t.name}
          </h3>
          <ProcessRows p={t.p} elapsed={elapsed} />
        </section>
      ))}
    </div>
  );
}

/** One decimal in every row, so that a column's values line up ("99.9", "1.0", "0.0"). */
const fixed1 = (v: number | null) =>
  v === null || !Number.isFinite(v) ? "—" : v.toLocaleString("en-US", {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
const mib = (v: number | null) => (v === null ? "—" : fixed1(v / 2 ** 20));

export function ProcessTable({ p }: { p: ProcessesModel }) {
  return (
    <div id="procs" class="procs">
      <ProcessRows p={p} elapsed={false} />
    </div>
  );
}

/** The processes of one sample: the busiest by CPU. */
function ProcessRows({ p, elapsed }: { p: ProcessesModel; elapsed: boolean }) {
  const top = topProcesses(p.list);
  return (
    <>
      {p.error ? <p class="problem error message">{p.error}</p> : null}
      {p.note ? <p class="note">{p.note}</p> : null}
      {!p.error && p.at === null
        ? <p class="note">This trace has no per-process records.</p>
        : null}
      {p.at !== null
        ? (
          <>
            <p>
              Sample at <PageTime ms={p.at} elapsed={elapsed} />: {p.total} processes, the{" "}
              {top.length} busiest by CPU.
            </p>
            <table>
              <thead>
                <tr>
                  <th>PID</th>
                  <th>Name</th>
                  <th>User</th>
                  <th class="num">CPU %</th>
                  <th class="num">RSS MiB</th>
                  <th class="num">Threads</th>
                  <th class="num">Read MiB/s</th>
                  <th class="num">Write MiB/s</th>
                  <th>Container</th>
                  <th>Command line</th>
                </tr>
              </thead>
              <tbody>
                {top.map((e) => (
                  <tr>
                    <td class="num">{String(e.pid)}</td>
                    <td>{e.name}</td>
                    <td>{e.user ?? "—"}</td>
                    <td class="num">{fixed1(e.cpu_percent)}</td>
                    <td class="num">{mib(e.rss_bytes)}</td>
                    <td class="num">{formatValue(e.threads, "")}</td>
                    <td class="num">{mib(e.read_bytes_per_sec)}</td>
                    <td class="num">{mib(e.write_bytes_per_sec)}</td>
                    <td>{e.container ?? ""}</td>
                    <td class="cmd" title={e.cmdline ?? ""}>{(e.cmdline ?? "").slice(0, 120)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )
        : null}
    </>
  );
}
