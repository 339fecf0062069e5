// The Processes tab's body: the process picked and its own history, the top processes of each
// metric over time (legends name them; a name links to its history), and every process the
// range saw, searchable. Names and command lines are untrusted: text nodes and attribute
// values (escaped), control and bidi characters shown as escapes (terminalSafe).
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, and hono/jsx
// would write `key` into the HTML.
import { terminalSafe } from "../schema/safe_text.ts";
import { Chart, JsonData } from "./chart.tsx";
import { formatValue } from "./charts.ts";
import type { PageModel, ProcessesTabModel } from "./model.ts";
import { pageUrl, stateQuery, type ViewState, viewUrl } from "./state.ts";
import { historyState, processLabel } from "./tabs/processes.ts";
import { fromStarts, PageTime } from "./time.tsx";
import type { ProcessSummary } from "./types.ts";

const cut = (text: string, max: number) => text.length > max ? `${text.slice(0, max - 1)}…` : text;
const shown = (
  text: string | null,
  max: number,
) => (text === null ? "" : cut(terminalSafe(text), max));
const mib = (v: number | null) => (v === null ? "—" : formatValue(v / 2 ** 20, ""));

/** A link to another view of this tab, as the tab bar's links are (fragment with htmx). */
function ViewLink(props: { s: ViewState; class?: string; title?: string; children: unknown }) {
  return (
    <a
      href={pageUrl(props.s)}
      hx-get={viewUrl(props.s)}
      hx-target="#view"
      hx-swap="outerHTML"
      class={props.class}
      title={props.title}
    >
      {props.children}
    </a>
  );
}

export function ProcessesBody({ m }: { m: PageModel }) {
  const p = m.procs;
  if (!p) return <p class="note">No samples in this trace yet.</p>;
  if (!p.recorded) {
    return (
      <p class="note proc-none">
        This trace has no per-process records: files of the original tool, and traces recorded with
        --top-processes 0, hold no <code>processes</code> column. <code>sysmon run</code>{" "}
        records the top processes by CPU and by memory at every sample.
      </p>
    );
  }
  const charts = m.tab?.charts ?? [];
  const unrecorded = p.unrecorded ?? [];
  const own = charts.filter((c) => c.id.startsWith("proc-one-"));
  const top = charts.filter((c) => !c.id.startsWith("proc-one-"));
  return (
    <>
      {unrecorded.length
        ? (
          <p class="note proc-unrecorded">
            No per-process records in the trace of{" "}
            {unrecorded.join(", ")}: its processes are not drawn.
          </p>
        )
        : null}
      {p.selected ? <Selected m={m} p={p} /> : null}
      {own.length
        ? <div class="charts proc-history">{own.map((c) => <Chart chart={c} />)}</div>
        : null}
      <p class="hint">
        The {p.top}{" "}
        processes with the highest peak or the most in total over the window, per chart (a process
        lasting seconds is shown as well as one busy all along). Click a name in a legend or in the
        list for that process's own history; its colour swatch hides it.
      </p>
      <div class="charts proc-top">{top.map((c) => <Chart chart={c} />)}</div>
      <ProcessList m={m} p={p} />
      {m.tab ? <JsonData class="tab-data" value={{ blocks: m.tab.blocks }} /> : null}
    </>
  );
}

function Selected({ m, p }: { m: PageModel; p: ProcessesTabModel }) {
  const s = m.state;
  const sel = p.selected!;
  const x = sel.summary;
  const back = { ...s, proc: undefined, trace: undefined, zoom: null };
  const elapsed = fromStarts(m);
  const trace = p.traces?.find((t) => t.index === sel.trace);
  return (
    <section class="processes-box proc-selected" aria-label="Process history">
      <h2>
        History of <span class="proc-name">{processLabel(sel.key)}</span>
        {p.traces
          ? (
            <span class="proc-trace">
              {" in "}
              <i class="trace-swatch" data-trace={String(trace?.slot ?? sel.trace ?? 0)} />{" "}
              {trace?.name ?? `trace ${sel.trace ?? 0} (not shown)`}
            </span>
          )
          : null}
      </h2>
      {x
        ? (
          <p class="proc-facts">
            Seen from <PageTime ms={x.first} elapsed={elapsed} /> to{" "}
            <PageTime ms={x.last} elapsed={elapsed} /> in {x.samples.toLocaleString("en-US")}{" "}
            samples{x.user ? `, user ${shown(x.user, 40)}` : ""}
            {x.container ? `, container ${shown(x.container, 60)}` : ""}; peak CPU{" "}
            {formatValue(x.peak.cpu, "%")}, peak memory {mib(x.peak.memory)} MiB.
            {x.cmdline ? <code class="proc-cmd">{shown(x.cmdline, 300)}</code> : null}
          </p>
        )
        : (
          <p class="note">
            {processLabel(sel.key)} is not listed in this range
            {p.traces ? " of its trace" : ""} (choose a longer range).
          </p>
        )}
      <p>
        <ViewLink s={back} class="button">Back to all processes</ViewLink>
      </p>
    </section>
  );
}

/** The view's state as hidden fields (all but the search). */
function StateFields({ s }: { s: ViewState }) {
  const q = stateQuery({ ...s, tab: "processes", find: undefined });
  return <>{[...q].map(([k, v]) => <input type="hidden" name={k} value={v} />)}</>;
}

function ProcessList({ m, p }: { m: PageModel; p: ProcessesTabModel }) {
  const s = m.state;
  const elapsed = fromStarts(m);
  const traces = p.traces;
  return (
    <section class="processes-box procs proc-list" id="proc-list" aria-label="Processes seen">
      <h2>Processes seen</h2>
      <form
        class="proc-find"
        action="/"
        method="get"
        hx-get="/tab/processes"
        hx-target="#view"
        hx-swap="outerHTML"
        role="search"
      >
        <StateFields s={s} />
        <input
          type="search"
          name="find"
          value={s.find ?? ""}
          placeholder="name, command line or PID"
          aria-label="Find a process by name, command line or PID"
          autocomplete="off"
          spellcheck={false}
        />
        <button type="submit">Find</button>
        {s.find ? <ViewLink s={{ ...s, find: undefined }} class="button">Show all</ViewLink> : null}
      </form>
      <p class="proc-count">
        <PageTime ms={p.listRange.start} elapsed={elapsed} /> to{" "}
        <PageTime ms={p.listRange.end} elapsed={elapsed} />: {p.total.toLocaleString("en-US")}{" "}
        process{p.total === 1 ? "" : "es"}
        {traces ? ` in ${traces.length} trace${traces.length === 1 ? "" : "s"}` : ""}
        {s.find ? ` matching “${cut(terminalSafe(s.find), 60)}”` : ""}
        {p.total > p.list.length
          ? `; the ${p.list.length} with the highest peak CPU listed${
            traces ? ` (at most ${p.limit} per trace)` : ""
          } (search to find the others)`
          : ""}.
      </p>
      {p.clipped
        ? (
          <p class="note proc-clipped">
            The range is longer than this tab reads at once (about 6 hours at 1 s): the list, the
            search and the charts cover its newest part above. Zoom into the range to see earlier
            processes.
          </p>
        )
        : null}
      {p.list.length
        ? (
          <table>
            <thead>
              <tr>
                {traces ? <th>Trace</th> : null}
                <th class="num">PID</th>
                <th>Name</th>
                <th>User</th>
                <th>First seen</th>
                <th>Last seen</th>
                <th class="num">Samples</th>
                <th class="num">Peak CPU %</th>
                <th class="num">Peak RSS MiB</th>
                <th class="num">Peak I/O MiB/s</th>
                <th class="num">Peak GPU MiB</th>
                <th>Command line</th>
              </tr>
            </thead>
            <tbody>
              {p.list.map((x) => <Row s={s} x={x} p={p} elapsed={elapsed} />)}
            </tbody>
          </table>
        )
        : null}
    </section>
  );
}

function Row(
  { s, x, p, elapsed }: {
    s: ViewState;
    x: ProcessSummary & { trace?: number };
    p: ProcessesTabModel;
    elapsed: boolean;
  },
) {
  const picked = s.proc?.pid === x.pid && s.proc.name === x.name &&
    (x.trace === undefined || x.trace === (p.selected?.trace ?? s.trace));
  const trace = p.traces?.find((t) => t.index === x.trace);
  return (
    <tr class={picked ? "picked" : undefined} data-trace={trace ? String(trace.slot) : undefined}>
      {p.traces
        ? (
          <td class="proc-trace">
            <i class="trace-swatch" data-trace={String(trace?.slot ?? 0)} /> {trace?.name ?? "?"}
          </td>
        )
        : null}
      <td class="num">{String(x.pid)}</td>
      <td>
        <ViewLink s={historyState(s, x, x.trace)} class="proc-link" title="Show its own history">
          {shown(x.name, 60)}
        </ViewLink>
      </td>
      <td>{shown(x.user, 32) || "—"}</td>
      <td>
        <PageTime ms={x.first} elapsed={elapsed} />
      </td>
      <td>
        <PageTime ms={x.last} elapsed={elapsed} />
      </td>
      <td class="num">{x.samples.toLocaleString("en-US")}</td>
      <td class="num">{formatValue(x.peak.cpu, "")}</td>
      <td class="num">{mib(x.peak.memory)}</td>
      <td class="num">{mib(x.peak.io)}</td>
      <td class="num">{mib(x.peak.gpu)}</td>
      <td class="cmd" title={shown(x.cmdline, 256)}>{shown(x.cmdline, 120)}</td>
    </tr>
  );
}
