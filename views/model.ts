// What a page or fragment is rendered from (built by web/app.ts, rendered by views/*.tsx).
import type { ProcessEntry, TraceMeta } from "../web/types.ts";
import type { TabModel } from "./charts.ts";
import type { ParsedState, ViewState } from "./state.ts";

export interface PageModel {
  state: ViewState;
  errors: ParsedState["errors"];
  /** The trace this server serves, as given on the command line. */
  file: string;
  meta: TraceMeta | null;
  /** Why there is nothing to show: the file is not there yet, or the data layer's message. */
  problem: { kind: "waiting" | "error"; message: string } | null;
  /** The window shown, epoch ms UTC; rangeStart is where the range begins (before any zoom). */
  window: { start: number; end: number; rangeStart: number } | null;
  tab: TabModel | null;
  /** Process list at a time (CPU & Memory tab). */
  processes: ProcessesModel | null;
  /** Changes when what the panel shows would change (auto-refresh sends it back). */
  version: string;
  refreshMs: number;
  /** This server's zone: what "Local" means for timestamps that carry no zone. */
  serverZone: string;
  /** Set when the link was made for another file. */
  fileNote: string | null;
}

export interface ProcessesModel {
  /** Sample the list belongs to (null: the trace has no process records). */
  at: number | null;
  /** Time asked for. */
  asked: number;
  list: ProcessEntry[];
  total: number;
  error: string | null;
}
