// Several traces side by side: which are shown (each named "host · start", in its colour),
// and how their times are aligned (as recorded, or from each one's start). Every choice is a
// view, so a link.
import { pageUrl, type ViewState, viewUrl } from "./state.ts";

export interface ComparedTraceModel {
  index: number;
  /** Its file (a trace's own file, or the directory or glob given). */
  path: string;
  /** "host · start" (the start in the display zone, or the server's for Local). */
  label: string;
  /** What legends call it (the host, or host and start where hosts repeat). */
  name: string;
  /** Colour slot (static/js/colors.js traceColor). */
  slot: number;
  shown: boolean;
  /** Why it is not drawn (unreadable, empty), or null. */
  problem: string | null;
}

export interface TracesModel {
  traces: ComparedTraceModel[];
  align: "wall" | "start";
  /** Whether the traces shown overlap in time (wall time is the default then). */
  overlap: boolean;
  /**
   * Whether this tab draws every trace shown (else it says what it shows: the Process Tree,
   * this machine's processes).
   */
  drawn: boolean;
}

/**
 * Which traces the page lists, and which have samples: a panel polled with another set is
 * answered with the whole view (the bar names a trace that joined).
 */
export function traceSet(m: TracesModel | null | undefined): string {
  return m ? m.traces.map((t) => `${t.index}${t.problem === null ? "" : "-"}`).join(".") : "one";
}

/** The traces shown after toggling `index` (at least one stays). */
function toggled(s: ViewState, m: TracesModel, index: number): number[] | undefined {
  const shown = m.traces.filter((t) => t.shown).map((t) => t.index);
  const next = shown.includes(index)
    ? shown.filter((i) => i !== index)
    : [...shown, index].sort((a, b) => a - b);
  if (next.length === 0) return s.traces;
  return next.length === m.traces.length ? undefined : next;
}

function Link(props: { to: ViewState; children: unknown; current?: boolean; class?: string }) {
  return (
    <a
      href={pageUrl(props.to)}
      hx-get={viewUrl(props.to)}
      class={props.class}
      aria-pressed={props.current === undefined ? undefined : props.current ? "true" : "false"}
    >
      {props.children}
    </a>
  );
}

export function CompareBar({ s, m }: { s: ViewState; m: TracesModel }) {
  return (
    <nav class="compare" aria-label="Traces compared" data-align={m.align}>
      <span class="label">Traces</span>
      {m.traces.map((t) => (
        <Link
          to={{ ...s, traces: toggled(s, m, t.index), zoom: null }}
          current={t.shown}
          class={`trace trace-${t.slot}`}
        >
          <i class="trace-swatch" data-trace={String(t.slot)} />
          <span class="trace-label">{t.label}</span>
          {t.problem ? <span class="trace-problem">: {t.problem}</span> : null}
        </Link>
      ))}
      <span class="label">Align</span>
      <Link to={{ ...s, align: "wall", zoom: null }} current={m.align === "wall"} class="align">
        Wall time
      </Link>
      <Link to={{ ...s, align: "start", zoom: null }} current={m.align === "start"} class="align">
        From each start
      </Link>
      {m.align === "start"
        ? <span class="hint">Times are elapsed since each trace's first sample (h:mm:ss).</span>
        : null}
      {m.drawn ? null : (
        <span class="hint">
          {s.tab === "proctree"
            ? "This tab shows this machine's processes now, not a trace's."
            : "This tab shows the first trace only."}
        </span>
      )}
    </nav>
  );
}
