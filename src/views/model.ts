// What a page or fragment is rendered from (built by src/server/app.ts and src/server/routes/ui.ts,
// rendered by views/*.tsx).
import type { CommandSummary, ProcTree } from "../schema/proc_tree.ts";
import type {
  LineProblem,
  LiveState,
  ProcMatch,
  Thresholds,
  TraceEvent,
  TreeDiff,
  WatchMetric,
} from "./model_types.ts";
import type { ProcessEntry, ProcessKey, ProcessSummary, TraceMeta } from "./types.ts";
import type { TabModel } from "./charts.ts";
import type { ParsedState, ViewState } from "./state.ts";
import type { TracesModel } from "./compare.tsx";

export interface PageModel {
  state: ViewState;
  errors: ParsedState["errors"];
  /** Rejected text, shown back in its field (a mistyped zone). */
  rejected?: ParsedState["rejected"];
  /** The trace this server shows now (it changes when tracing starts into another file). */
  file: string;
  meta: TraceMeta | null;
  /** Why there is nothing to show: the file is not there yet, or the data layer's message. */
  problem: { kind: "waiting" | "error"; message: string } | null;
  /** The window shown, epoch ms UTC; rangeStart is where the range begins (before any zoom). */
  window: { start: number; end: number; rangeStart: number } | null;
  tab: TabModel | null;
  /** Process list at a time (CPU & Memory tab). */
  processes: ProcessesModel | null;
  /** Several traces compared: each shown trace's process list at that time (CPU & Memory). */
  processesByTrace?: TraceProcessesModel[];
  /** Changes when what the panel shows would change (auto-refresh sends it back). */
  version: string;
  refreshMs: number;
  /** This server's zone: what "Local" means for timestamps that carry no zone. */
  serverZone: string;
  /** Set when the link was made for another file. */
  fileNote: string | null;
  /** Live updates of the panel (new samples appended), or null: the file, polled. */
  live: LiveModel | null;
  /** Said above the charts about the data source mode ("not tracing: …"), or null. */
  modeNote: string | null;
  /** The Process Tree tab. */
  proctree: ProcTreeModel | null;
  /** The sections beside the view (tracing, events, watch points); the full page only. */
  side: SideModel | null;
  /** The Processes tab (its charts are `tab`). */
  procs?: ProcessesTabModel;
  /** Several traces side by side (serve A B …). */
  compare?: TracesModel;
}

/** The Processes tab: the list of the processes a range saw, and the one picked. */
export interface ProcessesTabModel {
  /** False: the trace has no per-process records (said instead of charts). */
  recorded: boolean;
  /**
   * The busiest by peak CPU (of those the search found), at most `limit` (per trace when
   * several are compared: then each names its trace, and times are aligned).
   */
  list: (ProcessSummary & { trace?: number })[];
  limit: number;
  /** Processes the range saw (that the search found). */
  total: number;
  /** The range the list covers (the view's, before the picked process's window). */
  listRange: { start: number; end: number };
  /** The view's range was longer than the tab reads: `listRange` is its newest part. */
  clipped: boolean;
  /**
   * The process whose own history is shown, and what the range knows of it (null: nothing);
   * `trace`: its trace when several are compared.
   */
  selected: { key: ProcessKey; summary: ProcessSummary | null; trace?: number } | null;
  /** Processes each chart shows at most. */
  top: number;
  error: string | null;
  /** Several traces compared: each shown trace's name and colour slot, by index. */
  traces?: { index: number; name: string; slot: number }[];
  /** Several traces compared: the names of those that have no per-process records. */
  unrecorded?: string[];
}

/** One trace's process list at a time (several traces compared). */
export interface TraceProcessesModel {
  name: string;
  /** Colour slot (static/js/colors.js traceColor). */
  slot: number;
  p: ProcessesModel;
}

export interface ProcessesModel {
  /** Sample the list belongs to (null: the trace has no process records). */
  at: number | null;
  /** Time asked for. */
  asked: number;
  list: ProcessEntry[];
  total: number;
  error: string | null;
  /** Said above the list (several traces compared: the nearest sample is far from the time). */
  note?: string;
}

/** How the page asks for the samples newer than the ones it has. */
export interface LiveModel {
  /** The view's live URL (static/js/live.js adds since, epoch and sig). */
  url: string;
  /** The newest sample the panel holds, epoch ms. */
  since: number;
  /** The feed's epoch: another one means the rows started over (reload). */
  epoch: number;
  /** The layout of the panel's data (charts, series, blocks): another one means reload. */
  sig: string;
  /** The range's length (ms; 0 for All): the x window slides with the newest sample. */
  rangeMs: number;
}

export interface Message {
  kind: "error" | "ok";
  text: string;
}

export interface SideModel {
  tracing: TracingModel;
  events: EventsModel;
  watch: WatchModel;
}

export interface TraceStatusModel {
  state: LiveState;
  running: boolean;
  /** The trace the dashboard shows. */
  file: string;
  samples: number;
  rowsWritten: number;
  fileBytes: number | null;
  lastWrite: string | null;
  error: string | null;
  lateMs: number | null;
  notices: string[];
  unavailable: string[];
  following: boolean;
  followProblem: string | null;
  /** Whether samples come in now (Auto mode is live). */
  liveNow: boolean;
  sampleInterval: number | null;
}

export interface TracingModel {
  status: TraceStatusModel;
  /** What the form shows: the running (or last) settings, else the defaults. */
  form: {
    output: string;
    sampleInterval: number;
    writeInterval: number;
    enableGpu: boolean;
    enableDocker: boolean;
    useUtc: boolean;
  };
  /** Outputs typed into the page stay inside it. */
  dataDir: string;
  message: Message | null;
}

export interface EventsModel {
  /** The events file (beside the trace). */
  path: string;
  /** Every event, oldest first. */
  events: TraceEvent[];
  /** Why the events file cannot be used, or null. */
  problem: string | null;
  /** Changes whenever the events do (the list polls with it). */
  version: string;
  message: Message | null;
  /** The bad lines of an import. */
  lines: LineProblem[];
}

export interface WatchModel {
  thresholds: Thresholds;
  metrics: readonly WatchMetric[];
  /** Seconds a value must stay above to fire, and back at or below to re-arm. */
  forSeconds: number;
  /** Where firings are POSTed, or null. */
  webhook: string | null;
  problem: string | null;
  /** The webhook's failure, said once until a post gets through again, or null. */
  notice: string | null;
  message: Message | null;
}

export interface ProcTreeModel {
  pid: number;
  /** The tree, or why there is none (the message for the user). */
  result:
    | { tree: ProcTree; summary: CommandSummary[] }
    | { notFound: string; instead?: { pid: number; reason: string } };
  /** The snapshot of this PID to compare with, when one was taken. */
  snapshot: { at: number; count: number } | null;
}

export interface MatchesModel {
  query: string;
  matches: ProcMatch[];
  more: boolean;
  /** The view the matches link to (its pid replaced). */
  state: ViewState;
}

export interface CompareModel {
  pid: number;
  /** When the snapshot was taken (epoch ms), or null when there is none. */
  at: number | null;
  diff: TreeDiff | null;
  message: Message | null;
}
