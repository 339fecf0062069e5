// What the live side can be asked to do, each action once: the JSON API
// (src/server/routes/live_api.ts) and the page's forms (src/server/routes/ui.ts) both call
// these with the request's fields and answer a Refusal with the same status.
import { Temporal } from "temporal-polyfill";
import { Refusal } from "../schema/refusal.ts";
import { eventTime, parseTime, resolveZone } from "./event_time.ts";
import { parseEventsCsv } from "./events_csv.ts";
import type { LiveSession } from "./session.ts";
import type { LiveStatus } from "./tracer.ts";
import { validateWatch, WATCH_METRICS, type WatchSettings } from "./watch.ts";
import type { EventKind, LineProblem, TraceEvent } from "../views/model_types.ts";

/** A request's fields, from a JSON object or a form (`form`: unticked checkboxes are absent). */
export interface Fields {
  values: Record<string, unknown>;
  form: boolean;
}

function text(f: Fields, key: string): string | undefined {
  const v = f.values[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new Refusal("bad_input", `'${key}' must be text`);
  return v;
}

/** Seconds, as a number or as text (`label` names the field for people); blank: undefined. */
function seconds(f: Fields, key: string, label: string): number | undefined {
  const v = f.values[key];
  if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) return undefined;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    const shown = typeof v === "string" ? `'${v.slice(0, 20)}'` : JSON.stringify(v);
    throw new Refusal("bad_input", `${label} must be a number of seconds, not ${shown} ('${key}')`);
  }
  return n;
}

/** JSON booleans, and form checkboxes ("on", "true", "1"; absent from a form: false). */
function flag(f: Fields, key: string): boolean | undefined {
  const v = f.values[key];
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return ["on", "true", "1", "yes"].includes(v.toLowerCase());
  if (v === undefined && f.form) return false;
  if (v === undefined || v === null) return undefined;
  throw new Refusal("bad_input", `'${key}' must be true or false`);
}

const blank = (v: unknown) =>
  v === undefined || v === null || (typeof v === "string" && v.trim() === "");

// ---- events

export interface AddedEvent {
  event: TraceEvent;
  warning: string | null;
  zone: string;
}

/**
 * Adds a manual event named `name` (or `event`, the CSV's word) at `timestamp` (epoch ms or
 * ISO 8601), else at `date` and `time` in `zone` (a time alone: today), else now; `now`
 * ignores the time fields.
 */
export function addEvent(session: LiveSession, f: Fields, now = false): AddedEvent {
  const zone = resolveZone(text(f, "zone"));
  let at = Date.now();
  let warning: string | null = null;
  const date = (text(f, "date") ?? "").trim();
  const time = (text(f, "time") ?? "").trim();
  if (now) {
    // now, whatever the fields say
  } else if (!blank(f.values.timestamp)) {
    ({ at, warning } = eventTime(f.values.timestamp, zone, "'timestamp'"));
  } else if (date !== "" || time !== "") {
    const day = date || Temporal.Now.plainDateISO(zone).toString();
    ({ at, warning } = parseTime(`${day}T${time || "00:00"}`, zone));
  }
  const event = session.events.add({
    name: f.values.name ?? f.values.event,
    at,
    kind: "manual",
  });
  return { event, warning, zone };
}

/** Removes the events of `kind` (auto, manual; blank or all: every one); how many went. */
export function clearEvents(
  session: LiveSession,
  kindText: string | undefined,
): { removed: number; kind: EventKind | "all" } {
  const kind = blank(kindText) ? "all" : kindText!;
  if (kind !== "all" && kind !== "auto" && kind !== "manual") {
    throw new Refusal("bad_input", `kind must be auto, manual or all, not '${kind.slice(0, 20)}'`);
  }
  return { removed: session.events.clear(kind === "all" ? undefined : kind), kind };
}

/** Deletes one event; a Refusal (not_found) when there is none with that id. */
export function deleteEvent(session: LiveSession, id: string): TraceEvent {
  const gone = session.events.remove(id);
  if (gone === null) throw new Refusal("not_found", `no event ${id.slice(0, 40)}: already gone?`);
  return gone;
}

export interface Imported {
  added: TraceEvent[];
  warnings: LineProblem[];
  /** The file began with a header row. */
  header: boolean;
  zone: string;
}

/** Imports a CSV of events, all or nothing: bad rows are a Refusal with their lines. */
export function importEvents(session: LiveSession, csv: string, zoneText?: string): Imported {
  const zone = resolveZone(zoneText);
  const r = session.events.importCsv(csv, zone);
  if (r.errors.length > 0) {
    const n = r.errors.length;
    throw new Refusal("unreadable", `${n} bad row${n === 1 ? "" : "s"}; nothing imported`, {
      lines: r.errors,
    });
  }
  const header = parseEventsCsv(csv, zone).header;
  return { added: r.added, warnings: r.warnings, header, zone };
}

// ---- watch points

/**
 * Replaces the watch points with those given: thresholds (blank or null: off), `for` (seconds,
 * blank or absent: DEFAULT_FOR_S) and `webhook` (an http(s) URL; blank or absent: none).
 */
export function setWatch(session: LiveSession, f: Fields): WatchSettings {
  // JSON names the thresholds it sets; a form has a box for each (absent or blank: off).
  const given: Record<string, unknown> = f.form ? {} : { ...f.values };
  if (f.form) {
    for (const key of [...WATCH_METRICS.map((m) => m.key), "for", "webhook"]) {
      const v = f.values[key];
      given[key] = typeof v === "string" ? v.trim() : "";
    }
  }
  session.setWatch(validateWatch(given));
  return session.watchSettings;
}

// ---- the tracer

/** Starts tracing with the settings given (the others: the session's defaults). */
export async function startTracing(session: LiveSession, f: Fields): Promise<LiveStatus> {
  return await session.start({
    output: text(f, "output"),
    sampleInterval: seconds(f, "sampleInterval", "Sampling"),
    writeInterval: seconds(f, "writeInterval", "The write interval"),
    enableGpu: flag(f, "enableGpu"),
    enableDocker: flag(f, "enableDocker"),
    useUtc: flag(f, "utc"),
  });
}

/**
 * Stops tracing, writing everything (a tracer already stopping: once it has; one that failed:
 * the page goes back to following the file); a Refusal (conflict) when there is nothing to stop.
 */
export async function stopTracing(session: LiveSession): Promise<LiveStatus> {
  const state = session.tracer.status().state;
  if (state === "idle" || state === "stopped") throw new Refusal("conflict", "not tracing");
  return await session.stop();
}
