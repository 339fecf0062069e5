// What a page, a tab's fragment or a live update shows, built from the served trace, the
// live feed and this machine's processes. The routes (routes/pages.ts) render these.
import { emptyResult } from "../query/reduce.ts";
import { holeLimit } from "../query/gaps.ts";
import { isRefusal, messageOf } from "../schema/refusal.ts";
import { basename } from "node:path";
import { buildProcTree } from "../collect/proctree.ts";
import {
  feedColumnInfo,
  feedMeta,
  type FeedRow,
  joinResults,
  type LiveFeed,
  rowsResult,
} from "../live/feed.ts";
import type { LiveSession } from "../live/session.ts";
import { byCommand } from "../schema/proc_tree.ts";
import { crc32hex } from "../store/journal.ts";
import {
  buildTab,
  containerLatestColumns,
  latestValues,
  planTab,
  type TabModel,
} from "../views/charts.ts";
import type { PageModel, ProcessesModel, ProcTreeModel } from "../views/model.ts";
import {
  fitZoom,
  liveUrl,
  parseState,
  rangeMs,
  type TabName,
  type ViewState,
  viewWindow,
} from "../views/state.ts";
import type { SeriesResult, TraceMeta, TraceSource } from "../views/types.ts";
import type { UiContext } from "./routes/ui_models.ts";
import { fileState, type SourceHolder } from "./trace_holder.ts";
import { fillProcesses } from "./process_model.ts";
import { CHART_POINTS } from "../views/chart_spec.ts";
import { compareBar, COMPARED_TABS, fillCompared, loadCompared } from "./compare.ts";
import type { Comparison } from "./comparison.ts";
import { fillComparedProcesses, processesAtEach } from "./compare_processes.ts";

export interface PageDeps {
  session: LiveSession;
  feed: LiveFeed;
  ctx: UiContext;
  /** The open trace of the file shown now. */
  source: () => SourceHolder;
  refreshMs: number;
  serverZone: string;
  /** x positions per chart query (default: about a chart's width). */
  points?: number;
  /** Several traces side by side (the first one is `source`'s). */
  compare?: Comparison;
}

export function sourceZone(s: ViewState, serverZone: string): string | undefined {
  return s.src === "auto" ? undefined : s.src === "UTC" ? "UTC" : serverZone;
}

/** Identifies what a panel's data holds (charts, their series, blocks): live answers must match. */
export function tabSig(tab: TabModel): string {
  return crc32hex(JSON.stringify([
    tab.blocks.length,
    tab.charts.map((
      c,
    ) => [c.id, c.kind, c.block, c.hidden ? 1 : 0, c.series.map((x) => [x.label, x.i])]),
    tab.cards.map((c) => [c.id, c.spark]),
  ]));
}

export class PageModels {
  // Every column a page of this file has seen (the file's and the live rows'): live answers
  // are planned over the same columns as the page they extend.
  private known = { file: "", columns: new Set<string>() };

  constructor(private readonly d: PageDeps) {}

  private knownColumns(file: string): Set<string> {
    if (this.known.file !== file) this.known = { file, columns: new Set() };
    return this.known.columns;
  }

  /** The traces compared, while there are several. */
  private compared(): Comparison | undefined {
    const cmp = this.d.compare;
    return cmp && cmp.traces().length > 1 ? cmp : undefined;
  }

  /** Whether a view appends new samples: Live, or Auto while samples come in. */
  liveFor(s: ViewState): boolean {
    if (this.compared()) return false; // several traces: polled
    // The Processes tab is polled (its charts are re-queried, not appended to).
    return s.tab !== "proctree" && s.tab !== "processes" &&
      (s.mode === "live" || (s.mode === "auto" && this.d.feed.active()));
  }

  /** A model of the view `q` asks for, with nothing read yet. */
  private blank(q: URLSearchParams, tab: string | undefined): PageModel {
    const { state, errors, rejected } = parseState(q, tab);
    const file = this.d.session.file;
    const fileBase = basename(file);
    if (!state.file) state.file = fileBase;
    return {
      state,
      errors,
      rejected,
      file,
      meta: null,
      problem: null,
      window: null,
      tab: null,
      processes: null,
      version: "missing",
      refreshMs: this.d.refreshMs,
      serverZone: this.d.serverZone,
      fileNote: state.file !== fileBase
        ? `This link was made for ${state.file}; this server shows ${fileBase}.`
        : null,
      live: null,
      modeNote: null,
      proctree: null,
      side: null,
    };
  }

  /** Everything a view of `tab` shows. */
  async model(q: URLSearchParams, tab: string | undefined): Promise<PageModel> {
    const m = this.blank(q, tab);
    const state = m.state;
    const cmp = this.compared();
    // A trace traced here grows with every write: look as often.
    const writes = this.d.session.tracer.status().options?.writeInterval;
    if (cmp && this.d.feed.active() && writes) {
      m.refreshMs = Math.min(m.refreshMs, Math.max(1000, writes * 1000));
    }
    if (cmp && COMPARED_TABS.includes(state.tab)) {
      try {
        await this.fillCompared(m, cmp);
      } catch (err) {
        m.problem = { kind: "error", message: messageOf(err) };
      }
      return m;
    }
    if (cmp) {
      await this.modelOne(m);
      await compareBar(m, cmp, sourceZone(state, this.d.serverZone));
      return m;
    }
    return await this.modelOne(m);
  }

  /** A tab over every trace compared (and shown). */
  private async fillCompared(m: PageModel, cmp: Comparison) {
    const s = m.state;
    const zone = sourceZone(s, this.d.serverZone);
    const loaded = await loadCompared(m, cmp, zone);
    if (loaded.length === 0) return;
    if (s.tab === "processes") {
      const points = Math.min(this.d.points ?? CHART_POINTS, 5000);
      await fillComparedProcesses(m, loaded, zone, points);
      return;
    }
    await fillCompared(m, loaded, zone, this.d.points);
    if (s.tab === "cpu") m.processesByTrace = await processesAtEach(loaded, s.at, m.window, zone);
  }

  /**
   * Several traces compared: each one's processes at the time `q` asks for (the CPU & Memory
   * tab's list), and whether times are elapsed from each start; null: one trace is served.
   */
  async comparedProcesses(q: URLSearchParams, tab: string) {
    const cmp = this.compared();
    if (!cmp) return null;
    const m = this.blank(q, tab);
    const zone = sourceZone(m.state, this.d.serverZone);
    const loaded = await loadCompared(m, cmp, zone);
    return {
      each: await processesAtEach(loaded, m.state.at, m.window, zone),
      elapsed: m.compare?.align === "start",
    };
  }

  /** A view of the one trace (the first of several compared). */
  private async modelOne(m: PageModel): Promise<PageModel> {
    const state = m.state, file = m.file;
    if (state.tab === "proctree") {
      m.proctree = this.proctreeModel(state.pid ?? 1);
      await this.fillTrace(m); // the sidebar says what the other tabs say of the trace
      return m;
    }
    const live = this.liveFor(state);
    if (state.mode === "live" && !this.d.feed.active()) {
      m.modeNote = "Live: nothing is being traced here and the file is not growing; new " +
        "samples appear as soon as tracing starts (Start, in the sidebar).";
    }
    const fs = await fileState(file);
    const rows = live ? this.d.feed.rows() : [];
    if (fs.kind === "missing" && rows.length === 0) {
      m.problem = { kind: "waiting", message: `${file} does not exist yet.` };
      return m;
    }
    m.version = fs.kind === "present" ? fs.version : "missing";
    try {
      await this.fillTab(m, fs.kind === "present", live, rows);
    } catch (err) {
      // The file went away between the stat and the read: wait for it again.
      const gone = isRefusal(err, "not_found");
      m.problem = { kind: gone ? "waiting" : "error", message: messageOf(err) };
    }
    return m;
  }

  /** The tab's charts, cards and processes for `m` (its state, file and version set). */
  private async fillTab(m: PageModel, present: boolean, live: boolean, rows: FeedRow[]) {
    const { state, file } = m;
    const zone = sourceZone(state, this.d.serverZone);
    let src: TraceSource | null = null;
    let meta: TraceMeta;
    if (present) {
      src = await this.d.source().get();
      meta = await src.meta(zone);
    } else meta = feedMeta(file, [], []);
    const fileLast = src ? meta.last : null;
    const columns = this.knownColumns(file);
    for (const c of meta.columns) columns.add(c.name);
    let extra: FeedRow[] = [];
    if (live) {
      extra = fileLast === null ? rows : this.d.feed.after(fileLast);
      for (const c of this.d.feed.columns()) columns.add(c);
      meta = this.withRows(meta, extra, columns);
      if (!src) {
        meta.notices = [
          ...meta.notices,
          `${basename(file)} is not written yet: these are the tracer's samples in memory.`,
        ];
      }
    }
    m.meta = meta;
    if (meta.first === null || meta.last === null || meta.rows === 0) return;
    Object.assign(state, fitZoom(state, meta.first, meta.last)); // past the range: All, zoomed
    const w = viewWindow(state, meta.first, meta.last);
    m.window = w;
    if (state.tab === "processes") {
      if (src) await fillProcesses(m, src, zone, Math.min(this.d.points ?? CHART_POINTS, 5000));
      return;
    }
    // What counts as a hole between samples (gaps.ts): the file's interval, else the feed's.
    const limit = holeLimit(meta.sampleInterval) ?? this.d.feed.holeLimit();
    /** A block's answer: the file (reduced), then the live rows after it. */
    const answer = async (cols: string[], points: number): Promise<SeriesResult> => {
      const fromFile = src && (fileLast === null || w.start <= fileLast)
        ? await this.query(src, cols, w.start, Math.min(w.end, fileLast ?? w.end), points, zone)
        : emptyResult(w.start, w.end);
      if (!live) return fromFile;
      return joinResults(
        fromFile,
        rowsResult(extra.filter((r) => r.t >= w.start && r.t <= w.end), cols, limit),
        limit,
      );
    };
    let latest: Map<string, number | null> | undefined;
    if (state.tab === "containers") {
      const newest = live ? this.d.feed.newest() : null;
      latest = newest ? new Map(Object.entries(newest.values)) : src
        ? latestValues(
          await this.query(
            src,
            containerLatestColumns(meta.columns),
            w.end - 60_000,
            w.end,
            1000,
            zone,
          ),
        )
        : new Map();
    }
    const plan = planTab(state.tab, state, {
      columns: meta.columns,
      latest,
      points: this.d.points,
    });
    const results = await Promise.all(plan.blocks.map((b) => answer(b.columns, b.points)));
    m.tab = buildTab(plan, results, meta, limit);
    const events = m.tab.cards.find((c) => c.id === "events");
    if (events) events.value = this.d.session.events.list().length.toLocaleString("en-US");
    if (state.tab === "cpu") {
      m.processes = src
        ? await this.processes(src, state.at ?? Math.min(w.end, fileLast ?? w.end), zone)
        : { at: null, asked: w.end, list: [], total: 0, error: "Not in the file yet." };
    }
    if (live) {
      m.live = {
        url: liveUrl(state),
        since: meta.last,
        epoch: this.d.feed.epoch,
        sig: tabSig(m.tab),
        rangeMs: Number.isFinite(rangeMs(state)) ? rangeMs(state) : 0,
      };
    }
  }

  /** The trace's meta and window alone (the Process Tree tab shows no data of it). */
  private async fillTrace(m: PageModel) {
    try {
      if ((await fileState(m.file)).kind !== "present") return;
      m.meta = await (await this.d.source().get()).meta(sourceZone(m.state, this.d.serverZone));
      if (m.meta.first !== null && m.meta.last !== null && m.meta.rows > 0) {
        Object.assign(m.state, fitZoom(m.state, m.meta.first, m.meta.last));
        m.window = viewWindow(m.state, m.meta.first, m.meta.last);
      }
    } catch (_err) {
      m.meta = null; // the other tabs say what is wrong with the file
    }
  }

  /** The file's meta extended by the live rows after it (and the columns they bring). */
  private withRows(meta: TraceMeta, extra: FeedRow[], columns: Set<string>): TraceMeta {
    const have = new Set(meta.columns.map((c) => c.name));
    const out: TraceMeta = {
      ...meta,
      columns: [...meta.columns, ...feedColumnInfo([...columns].filter((c) => !have.has(c)))],
    };
    if (extra.length > 0) {
      out.rows = meta.rows + extra.length;
      out.first = meta.first ?? extra[0]!.t;
      out.last = extra.at(-1)!.t;
    }
    return out;
  }

  private proctreeModel(pid: number): ProcTreeModel {
    const snap = this.d.ctx.snapshots.get(pid);
    let result: ProcTreeModel["result"];
    try {
      const r = buildProcTree(this.d.ctx.procFs(), pid);
      result = "tree" in r ? { tree: r.tree, summary: byCommand(r.tree) } : r;
    } catch (err) {
      result = { notFound: `cannot read the processes: ${messageOf(err)}` };
    }
    return {
      pid,
      result,
      snapshot: snap ? { at: snap.at, count: snap.processes.length } : null,
    };
  }

  private async query(
    src: TraceSource,
    columns: string[],
    start: number,
    end: number,
    points: number,
    zone: string | undefined,
  ): Promise<SeriesResult> {
    if (columns.length === 0) return emptyResult(start, end);
    return await src.series({ columns, start, end, points, sourceZone: zone });
  }

  async processes(src: TraceSource, at: number, zone: string | undefined) {
    const p: ProcessesModel = { at: null, asked: at, list: [], total: 0, error: null };
    try {
      const r = await src.processesAt(at, zone);
      p.at = r.at;
      p.list = r.processes;
      p.total = r.processes.length;
    } catch (err) {
      p.error = messageOf(err);
    }
    return p;
  }

  /** New samples of a live view: what `since` lacks, as blocks shaped like the panel's. */
  liveAnswer(q: URLSearchParams, tab: TabName) {
    const { state } = parseState(q, tab);
    if (!this.liveFor(state)) return { live: false as const };
    const since = Number(q.get("since"));
    if (
      Number(q.get("epoch")) !== this.d.feed.epoch || !Number.isFinite(since) ||
      this.d.feed.missed(since)
    ) return { reload: "the live samples started over" };
    const rows = this.d.feed.after(since);
    if (rows.length === 0) return null;
    const columns = this.knownColumns(this.d.session.file);
    for (const c of this.d.feed.columns()) columns.add(c);
    const meta = feedMeta(this.d.session.file, rows, columns);
    const newest = rows.at(-1)!;
    const plan = planTab(state.tab, state, {
      columns: meta.columns,
      latest: state.tab === "containers" ? new Map(Object.entries(newest.values)) : undefined,
      points: this.d.points,
    });
    const limit = this.d.feed.holeLimit();
    const tabModel = buildTab(
      plan,
      plan.blocks.map((b) => rowsResult(rows, b.columns, limit)),
      meta,
      limit,
    );
    if (tabSig(tabModel) !== q.get("sig")) return { reload: "the charts changed" };
    return {
      epoch: this.d.feed.epoch,
      last: newest.t,
      count: rows.length,
      blocks: tabModel.blocks,
      cards: tabModel.cards
        .filter((c) => c.id !== "samples" && c.id !== "events" && c.value !== "—")
        .map((c) => ({ id: c.id, value: c.value })),
      bars: tabModel.charts.filter((c) => c.kind === "bars").map((c) => ({
        id: c.id,
        bars: c.bars,
      })),
    };
  }

  /** 204 when the file has not changed since the version the page shows (auto-refresh). */
  async unchanged(q: URLSearchParams): Promise<boolean> {
    const v = q.get("v");
    if (v === null) return false;
    const cmp = this.compared();
    if (cmp) return v === await cmp.version();
    if (this.d.feed.rows().length > 0 && this.liveFor(parseState(q).state)) return false; // gone live
    const fs = await fileState(this.d.session.file);
    return v === (fs.kind === "present" ? fs.version : "missing");
  }
}
