// Events (annotations) of a trace, kept beside it in `<file>.events.csv` so they travel with it.
//
// The file is what import reads and export writes: a header `event,timestamp,kind`, then one
// row per event with the time as an ISO 8601 UTC instant and kind `manual` or `auto` (a watch
// point's firing, with an `end` column once it has cleared). It is replaced atomically on every
// change.
import { isMany, manyNotesPath } from "../query/multi.ts";
import fs from "node:fs";
import { openRegularFile, PathKindError } from "../store/paths.ts";
import { messageOf, Refusal } from "../schema/refusal.ts";
import { cleanName, formatEventsCsv, type NewEvent, parseEventsCsv } from "./events_csv.ts";
import { crc32hex } from "../store/journal.ts";
import { removeQuietly, replaceAtomically } from "../store/atomic.ts";
import type { EventKind, LineProblem, TraceEvent } from "../views/model_types.ts";
export type { EventKind, LineProblem, TraceEvent } from "../views/model_types.ts";

/** Beside the trace; for a directory or glob view, hidden in its directory (never listed). */
export const eventsPath = (dataFile: string) =>
  `${isMany(dataFile) ? manyNotesPath(dataFile) : dataFile}.events.csv`;

// ---------------------------------------------------------------- the store

export interface ImportResult {
  added: TraceEvent[];
  errors: LineProblem[];
  warnings: LineProblem[];
}

/**
 * The events of one trace. Reads the file again when it changed on disk; refuses to write
 * when the file on disk could not be read (it would lose rows), saying which line is bad.
 */
export class EventStore {
  readonly path: string;
  private events: TraceEvent[] = [];
  private seen = "";
  /** Why the file on disk cannot be used, or null. */
  problem: string | null = null;

  constructor(path: string) {
    this.path = path;
    this.refresh();
  }

  /** The store of a trace file's events (`<file>.events.csv`). */
  static forTrace(dataFile: string): EventStore {
    return new EventStore(eventsPath(dataFile));
  }

  /** Every event, in time order. */
  list(): TraceEvent[] {
    this.refresh();
    return [...this.events];
  }

  add(e: { name: unknown; at: number; kind?: EventKind }): TraceEvent {
    if (!Number.isFinite(e.at)) throw new Refusal("bad_input", "the event time is not a number");
    const added = this.addAll([{ name: cleanName(e.name), at: e.at, kind: e.kind ?? "manual" }]);
    return added[0]!;
  }

  /**
   * Gives the event `id` its end (a watch point's firing cleared); null when there is no such
   * event any more (deleted, cleared, or the trace was reset).
   */
  finish(id: string, end: number): TraceEvent | null {
    this.refresh();
    const i = this.events.findIndex((e) => e.id === id);
    if (i < 0) return null;
    this.writable();
    const e = { ...this.events[i]!, end: Math.max(end, this.events[i]!.at) };
    this.events[i] = e;
    this.save();
    return e;
  }

  /** Removes one event; null when there is no such id. */
  remove(id: string): TraceEvent | null {
    this.refresh();
    const i = this.events.findIndex((e) => e.id === id);
    if (i < 0) return null;
    this.writable();
    const [gone] = this.events.splice(i, 1);
    this.save();
    return gone!;
  }

  /** Removes every event, or every event of one kind; returns how many. */
  clear(kind?: EventKind): number {
    this.refresh();
    this.writable();
    const before = this.events.length;
    this.events = kind ? this.events.filter((e) => e.kind !== kind) : [];
    const n = before - this.events.length;
    if (n > 0) this.save();
    return n;
  }

  /** Imports CSV text: all rows or, when any row is bad, none (each bad row reported). */
  importCsv(text: string, zone: string): ImportResult {
    const parsed = parseEventsCsv(text, zone);
    if (parsed.errors.length > 0) {
      return { added: [], errors: parsed.errors, warnings: parsed.warnings };
    }
    return { added: this.addAll(parsed.events), errors: [], warnings: parsed.warnings };
  }

  /** Moves the file to `dest` (the trace was archived there); this store starts empty. */
  moveTo(dest: string) {
    try {
      Deno.renameSync(this.path, dest);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    this.refresh();
  }

  exportCsv(): string {
    return formatEventsCsv(this.list());
  }

  private addAll(list: NewEvent[]): TraceEvent[] {
    this.refresh();
    this.writable();
    const all: NewEvent[] = [...this.events, ...list];
    this.events = withIds(all);
    this.save();
    // The new events are the last `list.length` objects that went in (ids are by content).
    const fresh = new Set<NewEvent>(list);
    return this.events.filter((e) => fresh.has(sourceOf.get(e)!));
  }

  private writable() {
    if (this.problem !== null) throw new Refusal("unreadable", this.problem);
  }

  /** Writes the events; a failure (a full disk) is a Refusal, and the file stays as it was. */
  private save() {
    try {
      if (this.events.length === 0) removeQuietly(this.path);
      else replaceAtomically(this.path, new TextEncoder().encode(formatEventsCsv(this.events)));
    } catch (err) {
      this.seen = ""; // read the file again: the change did not reach it
      throw new Refusal("failed", `cannot write ${this.path}: ${messageOf(err)}; nothing changed`);
    }
    this.seen = this.stamp();
  }

  private stamp(): string {
    try {
      const st = Deno.statSync(this.path);
      return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "none";
      return `error:${(err as Error).message}`;
    }
  }

  /** Reads the file again when it changed since this store last read or wrote it. */
  private refresh() {
    const stamp = this.stamp();
    if (stamp === this.seen) return;
    this.seen = stamp;
    this.problem = null;
    if (stamp === "none") {
      this.events = [];
      return;
    }
    if (stamp.startsWith("error:")) {
      this.events = [];
      this.problem = `${this.path} cannot be read (${stamp.slice(6)}); events are read-only`;
      return;
    }
    let text: string;
    try {
      // Opened only as a regular file: a FIFO put there would block the read (and the server).
      const fd = openRegularFile(this.path, "an events file");
      try {
        text = fs.readFileSync(fd, "utf8");
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if (!(err instanceof PathKindError)) throw err;
      this.events = [];
      this.problem = `${err.message}; move it (events are read-only until then)`;
      return;
    }
    const parsed = parseEventsCsv(text, "UTC");
    if (parsed.errors.length > 0) {
      const e = parsed.errors[0]!;
      this.problem = `${this.path} line ${e.line}: ${e.message}; fix or move the file ` +
        `(events are read-only until then)`;
    }
    this.events = withIds(parsed.events);
  }
}

/** Which input object each stored event came from (to tell the caller its new ids). */
const sourceOf = new WeakMap<TraceEvent, NewEvent>();

/** Sorts by time and gives each event its id: a hash of its content, numbered on repeats. */
function withIds(list: NewEvent[]): TraceEvent[] {
  const sorted = [...list].sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
  const count = new Map<string, number>();
  return sorted.map((src) => {
    const base = crc32hex(`${src.kind}\0${src.at}\0${src.name}`);
    const n = (count.get(base) ?? 0) + 1;
    count.set(base, n);
    const e: TraceEvent = {
      id: n === 1 ? base : `${base}-${n}`,
      name: src.name,
      at: src.at,
      kind: src.kind,
    };
    if (src.end !== undefined) e.end = src.end;
    sourceOf.set(e, src);
    return e;
  });
}
