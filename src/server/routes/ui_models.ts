// What the sidebar's sections are rendered from, built from the live session, and the
// helpers the /ui/* routes share.
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { relative } from "node:path";
import { Temporal } from "temporal-polyfill";
import type { ProcFs } from "../../collect/proc/fs.ts";
import type { UserNames } from "../../collect/processes.ts";
import type { Fields } from "../../live/actions.ts";
import type { LineProblem } from "../../live/events.ts";
import type { LiveFeed } from "../../live/feed.ts";
import type { TreeSnapshots } from "../../live/proc_inspect.ts";
import type { LiveSession } from "../../live/session.ts";
import { WATCH_METRICS } from "../../live/watch.ts";
import { messageOf, Refusal } from "../../schema/refusal.ts";
import { crc32hex } from "../../store/journal.ts";
import type {
  EventsModel,
  Message,
  SideModel,
  TraceStatusModel,
  TracingModel,
  WatchModel,
} from "../../views/model.ts";
import { statusOf } from "../errors.ts";
import { startOutput } from "../../live/start_output.ts";
import { pageWords } from "../../views/page_words.ts";
import { traceBytes } from "../trace_holder.ts";

export interface UiContext {
  session: LiveSession;
  feed: LiveFeed;
  /** This machine's /proc (opened on first use). */
  procFs: () => ProcFs;
  users: () => UserNames;
  snapshots: TreeSnapshots;
  /** Whether several traces are shown side by side (Start then adds one). */
  comparing?: () => boolean;
}

// ---- models

export function traceStatusModel(ctx: UiContext): TraceStatusModel {
  const { session, feed } = ctx;
  const st = session.tracer.status();
  const ours = st.options?.output === session.file;
  return {
    state: st.state,
    running: st.running,
    file: session.file,
    samples: ours ? st.samples : 0,
    rowsWritten: ours ? st.rowsWritten : 0,
    fileBytes: st.running && ours ? st.fileBytes : traceBytes(session.file),
    lastWrite: ours ? st.lastWrite : null,
    error: st.error ? pageWords(st.error) : null,
    lateMs: st.running ? st.lateMs : null,
    notices: session.webhook.notice ? [...st.notices, session.webhook.notice] : st.notices,
    unavailable: st.running ? st.unavailable : [],
    following: session.following !== null,
    followProblem: session.following?.problem ?? null,
    liveNow: feed.active(),
    sampleInterval: st.options?.sampleInterval ?? null,
  };
}

export function tracingModel(ctx: UiContext, msg: Message | null = null): TracingModel {
  const { session } = ctx;
  // The running settings, else the last ones with an output Start can trace into (never
  // the original tool's file: sysmon does not append to it).
  const st = session.tracer.status();
  const o = st.running && st.options ? st.options : (() => {
    const last = st.options ?? session.defaults;
    const fresh = ctx.comparing?.() ?? false;
    const s = startOutput(session.file, session.dataDir, st.options?.output, fresh);
    return { ...last, output: s.output, useUtc: s.utc ?? last.useUtc };
  })();
  const rel = relative(session.dataDir, o.output);
  return {
    status: traceStatusModel(ctx),
    form: {
      output: rel.startsWith("..") ? o.output : rel,
      sampleInterval: o.sampleInterval,
      writeInterval: o.writeInterval,
      enableGpu: o.enableGpu,
      enableDocker: o.enableDocker,
      useUtc: o.useUtc,
    },
    dataDir: session.dataDir,
    message: msg,
  };
}

/** Changes whenever the events file does (or the trace, hence the file, changes). */
function eventsVersion(path: string): string {
  let stamp = "none";
  try {
    const st = Deno.statSync(path);
    stamp = `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) stamp = `error:${messageOf(err)}`;
  }
  return crc32hex(`${path}\0${stamp}`);
}

export function eventsModel(
  ctx: UiContext,
  msg: Message | null = null,
  lines: LineProblem[] = [],
): EventsModel {
  const store = ctx.session.events;
  const events = store.list();
  return {
    path: store.path,
    events,
    problem: store.problem,
    version: eventsVersion(store.path),
    message: msg,
    lines,
  };
}

export function watchModel(ctx: UiContext, msg: Message | null = null): WatchModel {
  const w = ctx.session.watchSettings;
  return {
    thresholds: w.thresholds,
    metrics: WATCH_METRICS,
    forSeconds: w.forSeconds,
    webhook: w.webhook,
    problem: ctx.session.watchProblem,
    notice: ctx.session.webhook.notice,
    message: msg,
  };
}

export function sideModel(ctx: UiContext): SideModel {
  return { tracing: tracingModel(ctx), events: eventsModel(ctx), watch: watchModel(ctx) };
}

/** The section's message for a refusal, and its status; anything else is thrown on. */
export function refused(err: unknown): { status: ContentfulStatusCode; text: string } {
  if (!(err instanceof Refusal)) throw err;
  return { status: statusOf(err), text: err.message };
}

export const field = (f: Fields, key: string) => {
  const v = f.values[key];
  return typeof v === "string" ? v : "";
};

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "2024-05-01 14:30:00 Europe/Berlin". */
export function isoIn(at: number, zone: string): string {
  const z = Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(zone);
  return `${z.toPlainDate()} ${z.toPlainTime().toString({ smallestUnit: "second" })} ${zone}`;
}
