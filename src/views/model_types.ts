// What the views show, as the views need it; the server's modules fill these in.

export type EventKind = "manual" | "auto";

export interface TraceEvent {
  /** Stable across restarts: derived from the event's content. */
  id: string;
  name: string;
  /** Epoch ms UTC. */
  at: number;
  kind: EventKind;
  /** Epoch ms UTC: when a watch point's firing cleared (absent: a moment, or still firing). */
  end?: number;
}

/** A problem with one line of a CSV file (1-based, as an editor shows it). */
export interface LineProblem {
  line: number;
  message: string;
}

export type LiveState = "idle" | "starting" | "running" | "stopping" | "stopped" | "failed";

/** A process found by name or command line. */
export interface ProcMatch {
  pid: number;
  user: string | null;
  threads: number | null;
  name: string;
  cmdline: string | null;
}

/** A process as a snapshot keeps it. */
export interface SnapProcess {
  pid: number;
  ppid: number | null;
  name: string;
  threads: number | null;
}

export interface TreeDiff {
  added: SnapProcess[];
  removed: SnapProcess[];
  /** Processes in both whose thread count changed. */
  threads: { pid: number; name: string; before: number | null; after: number | null }[];
  before: number;
  after: number;
}

export type WatchKey = "cpu" | "mem" | "threads" | "processes" | "gpu_util" | "gpu_mem";

export interface WatchMetric {
  key: WatchKey;
  /** Short label used in event names ("CPU%"); GPU labels get the GPU's index. */
  label: string;
  /** For the form. */
  title: string;
  unit: "%" | "count";
}

/** Threshold per metric; absent or null: not watched. */
export type Thresholds = Partial<Record<WatchKey, number | null>>;
