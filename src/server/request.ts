// A request's body as fields, for the actions of src/live/actions.ts: a JSON object or a
// form (urlencoded or multipart; a repeated field counts once), read the same way for the
// JSON API and the page's forms.
import type { Context } from "hono";
import { Refusal } from "../schema/refusal.ts";
import type { Fields } from "../live/actions.ts";

export async function readFields(c: Context): Promise<Fields> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type === "" && (c.req.header("content-length") ?? "0") === "0") {
    return { values: {}, form: false };
  }
  if (type.includes("application/json")) {
    let v: unknown;
    try {
      v = await c.req.json();
    } catch {
      throw new Refusal("bad_input", "the body is not valid JSON");
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new Refusal("bad_input", "the body must be a JSON object");
    }
    return { values: v as Record<string, unknown>, form: false };
  }
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    const body = await c.req.parseBody({ all: true });
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) values[k] = Array.isArray(v) ? v[0] : v;
    return { values, form: true };
  }
  throw new Refusal("unsupported", `send JSON or a form, not '${type || "no content type"}'`);
}
