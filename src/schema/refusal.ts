// Why sysmon cannot do what it was asked, in words for the person who asked. One error type
// for every layer: the server answers it with the status its kind names (src/server/errors.ts),
// the command line prints its message.

export type RefusalKind =
  /** A parameter, field or value that is wrong: 400. */
  | "bad_input"
  /** Nothing there: no such file, event or tab: 404. */
  | "not_found"
  /** Not now: already tracing, not tracing: 409. */
  | "conflict"
  /** More than is accepted: 413. */
  | "too_large"
  /** A body of a type that is not read: 415. */
  | "unsupported"
  /** There, but it cannot be read as asked: a corrupt file, a FIFO, bad rows: 422. */
  | "unreadable"
  /** It was tried and failed (a write, the tracer exiting): 500, with the reason. */
  | "failed";

/** A problem with one line of an input (1-based). */
export interface RefusedLine {
  line: number;
  message: string;
}

export class Refusal extends Error {
  /** The lines at fault, for an input read line by line (a CSV of events). */
  readonly lines: RefusedLine[];
  constructor(readonly kind: RefusalKind, message: string, opts: { lines?: RefusedLine[] } = {}) {
    super(message);
    this.name = "Refusal";
    this.lines = opts.lines ?? [];
  }
}

/** Whether `err` is a Refusal (of one of `kinds`, when given). */
export function isRefusal(err: unknown, ...kinds: RefusalKind[]): err is Refusal {
  return err instanceof Refusal && (kinds.length === 0 || kinds.includes(err.kind));
}

/** What an error says, for a message (anything thrown, not only Errors). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
