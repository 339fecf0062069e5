// The Process Tree tab's requests: find processes by name, snapshot a tree and compare it
// with the tree now.
import { Hono } from "hono";
import { buildProcTree } from "../../collect/proctree.ts";
import { diffSnapshots, findProcesses, snapshotOf } from "../../live/proc_inspect.ts";
import { Refusal } from "../../schema/refusal.ts";
import type { CompareModel } from "../../views/model.ts";
import { Compare, Matches } from "../../views/proctree.tsx";
import { parseState } from "../../views/state.ts";
import { readFields } from "../request.ts";
import { field, type UiContext } from "./ui_models.ts";

export function uiProcTreeRoutes(ctx: UiContext): Hono {
  const app = new Hono();

  app.get("/ui/proctree/find", (c) => {
    const q = new URL(c.req.url).searchParams;
    const query = (q.get("q") ?? "").slice(0, 200);
    const { state } = parseState(q, "proctree");
    const r = findProcesses(ctx.procFs(), ctx.users(), query);
    return c.html(Matches({ m: { query, matches: r.matches, more: r.more, state } }));
  });

  const pidOf = (text: string): number => {
    const n = Number(text);
    if (!/^\d{1,10}$/.test(text.trim()) || n < 1) {
      throw new Refusal("bad_input", "pid: a process id");
    }
    return n;
  };

  app.post("/ui/proctree/snapshot", async (c) => {
    const pid = pidOf(field(await readFields(c), "pid"));
    const r = buildProcTree(ctx.procFs(), pid);
    const cm: CompareModel = { pid, at: null, diff: null, message: null };
    if ("notFound" in r) {
      cm.message = { kind: "error", text: r.notFound };
      return c.html(Compare({ c: cm }), 422);
    }
    const snap = snapshotOf(r.tree, Date.now());
    ctx.snapshots.take(snap);
    cm.at = snap.at;
    return c.html(Compare({ c: cm, count: snap.processes.length }));
  });

  app.get("/ui/proctree/compare", (c) => {
    const pid = pidOf(c.req.query("pid") ?? "");
    const before = ctx.snapshots.get(pid);
    const cm: CompareModel = { pid, at: before?.at ?? null, diff: null, message: null };
    if (!before) {
      cm.message = { kind: "error", text: `No snapshot of PID ${pid} yet: take one first.` };
      return c.html(Compare({ c: cm }), 422);
    }
    const r = buildProcTree(ctx.procFs(), pid);
    if ("notFound" in r) {
      cm.message = { kind: "error", text: r.notFound };
      return c.html(Compare({ c: cm }), 422);
    }
    cm.diff = diffSnapshots(before, snapshotOf(r.tree, Date.now()));
    return c.html(Compare({ c: cm }));
  });

  return app;
}
