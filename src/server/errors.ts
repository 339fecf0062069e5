// The one answer to a request that is refused or fails, for every route: a Refusal gets the
// status its kind names and its message; anything else is logged here and answered 500
// without details. As JSON ({error}, and `errors`: [{line, message}] for an input
// refused line by line), or as text for a page or fragment a browser asked for. Mounted once, on the
// app (sub-apps set no handler of their own, so theirs is this one).
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Refusal, type RefusalKind, type RefusedLine } from "../schema/refusal.ts";

const STATUS: Record<RefusalKind, ContentfulStatusCode> = {
  bad_input: 400,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported: 415,
  unreadable: 422,
  failed: 500,
};

export function statusOf(refusal: Refusal): ContentfulStatusCode {
  return STATUS[refusal.kind];
}

/**
 * JSON for a client, text for a page a browser navigated to. For an htmx request (a fragment
 * or a form) nothing is swapped: the page keeps its section and flashes the message (an
 * `sysmon-error` event, static/js/main.js). The routes that answer with their section in it
 * render their refusals themselves.
 */
function answer(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  lines: RefusedLine[] = [],
) {
  if (c.req.header("hx-request") === "true") {
    c.header("HX-Reswap", "none");
    c.header("HX-Trigger", asciiJson({ "sysmon-error": `${status}: ${error}` }));
    return c.text(error, status);
  }
  if (!c.req.path.startsWith("/api/") && (c.req.header("accept") ?? "").includes("text/html")) {
    return c.text(error, status);
  }
  return c.json(lines.length ? { error, errors: lines } : { error }, status);
}

/** JSON with every non-ASCII character escaped: a header value carries bytes, not UTF-8. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export const onError: ErrorHandler = (err, c) => {
  if (err instanceof Refusal) return answer(c, statusOf(err), err.message, err.lines);
  // Hono's own (a body it could not parse, a limit), with the status it chose.
  if (err instanceof HTTPException) {
    if (err.res) return err.res;
    return answer(c, err.status as ContentfulStatusCode, err.message || "request refused");
  }
  console.error(`sysmon serve: ${c.req.method} ${c.req.path}:`, err);
  return answer(c, 500, "internal error (details are in the server's log)");
};

export const onNotFound: NotFoundHandler = (c) =>
  answer(c, 404, `no such page: ${c.req.method} ${c.req.path}`);
