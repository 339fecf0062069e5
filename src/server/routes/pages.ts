// The dashboard's pages and fragments: the page, a tab's view and panel, its live updates and
// the processes at a sample (each trace's when several are compared; src/views/ renders them
// from page_model.ts).
import { Hono } from "hono";
import { html } from "hono/html";
import { basename } from "node:path";
import { messageOf, Refusal } from "../../schema/refusal.ts";
import { Page } from "../../views/layout.tsx";
import type { ProcessesModel } from "../../views/model.ts";
import { Panel, ProcessTable, TracesProcessTables } from "../../views/panel.tsx";
import { pageUrl, parseState, type TabName, TABS } from "../../views/state.ts";
import { View } from "../../views/view.tsx";
import { traceSet } from "../../views/compare.tsx";
import { type PageModels, sourceZone } from "../page_model.ts";
import type { SourceHolder } from "../trace_holder.ts";
import { sideModel, type UiContext } from "./ui_models.ts";

export interface PagesContext {
  models: PageModels;
  ctx: UiContext;
  /** The open trace of the file shown now. */
  source: () => SourceHolder;
  serverZone: string;
}

function tabName(name: string): TabName {
  const t = TABS.find((x) => x.name === name);
  if (!t) throw new Refusal("not_found", `No tab '${name}'.`);
  return t.name;
}

export function pageRoutes({ models, ctx, source, serverZone }: PagesContext): Hono {
  const { session } = ctx;
  const zones = (Intl as unknown as { supportedValuesOf(k: string): string[] })
    .supportedValuesOf("timeZone");
  const pages = new Hono();

  pages.get("/", async (c) => {
    const m = await models.model(new URL(c.req.url).searchParams, undefined);
    m.side = sideModel(ctx);
    return c.html(html`<!DOCTYPE html>${Page({ m, zones })}`);
  });

  pages.get("/tab/:name", async (c) => {
    const tab = tabName(c.req.param("name"));
    const q = new URL(c.req.url).searchParams;
    if (await models.unchanged(q)) return c.body(null, 204);
    const m = await models.model(q, tab);
    c.header("HX-Push-Url", pageUrl(m.state));
    return c.html(View({ m }));
  });

  pages.get("/tab/:name/panel", async (c) => {
    const tab = tabName(c.req.param("name"));
    const q = new URL(c.req.url).searchParams;
    if (await models.unchanged(q)) return c.body(null, 204);
    const m = await models.model(q, tab);
    const set = q.get("set");
    if (set !== null && set !== traceSet(m.compare)) {
      // A trace joined (or got its first samples): the bar and controls change too, so the
      // page asks for the whole view (static/js/live.js refreshView). Not HX-Retarget: a poll
      // answered after its view was replaced would look `#view` up in the detached panel.
      c.header("HX-Trigger", "sysmon-refresh");
      return c.body(null, 204);
    }
    return c.html(Panel({ m }));
  });

  pages.get("/tab/:name/live", (c) => {
    const r = models.liveAnswer(new URL(c.req.url).searchParams, tabName(c.req.param("name")));
    if (r === null) return c.body(null, 204);
    return c.json(r);
  });

  pages.get("/tab/:name/processes", async (c) => {
    const q = new URL(c.req.url).searchParams;
    const { state } = parseState(q, tabName(c.req.param("name")));
    if (!state.file) state.file = basename(session.file);
    const each = await models.comparedProcesses(q, state.tab);
    if (each) {
      c.header("HX-Replace-Url", pageUrl(state));
      return c.html(TracesProcessTables({ list: each.each, elapsed: each.elapsed }));
    }
    let p: ProcessesModel;
    try {
      const src = await source().get();
      const meta = await src.meta(sourceZone(state, serverZone));
      p = await models.processes(src, state.at ?? meta.last ?? 0, sourceZone(state, serverZone));
    } catch (err) {
      p = { at: null, asked: state.at ?? 0, list: [], total: 0, error: messageOf(err) };
    }
    c.header("HX-Replace-Url", pageUrl(state));
    return c.html(ProcessTable({ p }));
  });

  return pages;
}
