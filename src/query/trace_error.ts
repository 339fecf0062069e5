// The data layer's error: a problem with a trace the user can act on, and its HTTP status.

export type TraceErrorKind = "missing" | "unreadable" | "bad_request";

/** A problem the user can act on; `message` is shown as it is. */
export class TraceError extends Error {
  readonly kind: TraceErrorKind;
  constructor(kind: TraceErrorKind, message: string) {
    super(message);
    this.name = "TraceError";
    this.kind = kind;
  }

  /** HTTP status: 404 file missing, 422 file unreadable, 400 bad request. */
  get status(): 400 | 404 | 422 {
    return this.kind === "missing" ? 404 : this.kind === "unreadable" ? 422 : 400;
  }
}
