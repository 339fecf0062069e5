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

/** Text for a page or fragment a browser asked for, JSON for anything else. */
function answer(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  lines: RefusedLine[] = [],
) {
  const browser = c.req.header("hx-request") === "true" ||
    (c.req.header("accept") ?? "").includes("text/html");
  if (browser && !c.req.path.startsWith("/api/")) return c.text(error, status);
  return c.json(lines.length ? { error, errors: lines } : { error }, status);
}

export const onError: ErrorHandler = (err, c) => {
  if (err instanceof Refusal) return answer(c, statusOf(err), err.message, err.lines);
  // Hono's own (a body it could not parse, a limit), with the status it chose.
  if (err instanceof HTTPException) {
    return answer(c, err.status as ContentfulStatusCode, err.message || "request refused");
  }
  console.error(`sysmon serve: ${c.req.method} ${c.req.path}:`, err);
  return answer(c, 500, "internal error (details are in the server's log)");
};

export const onNotFound: NotFoundHandler = (c) =>
  answer(c, 404, `no such page: ${c.req.method} ${c.req.path}`);
