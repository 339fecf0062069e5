// The live side of the dashboard's state: the trace it shows (which changes when tracing
// starts into another file), its events, the watch points, the tracer, and the follower of a
// file another `sysmon run` writes. The actions on it are in actions.ts; the routes in
// src/server/routes/live_api.ts (JSON) and src/server/routes/ui.ts (the page's forms).
import { isMany, manyDir } from "../query/multi.ts";
import { checkIntervals } from "../tracer/options.ts";
import { dirname, resolve } from "node:path";
import { messageOf, Refusal } from "../schema/refusal.ts";
import { EventStore } from "./events.ts";
import { FileFollower } from "./follower.ts";
import { type LiveStartOptions, LiveTracer } from "./tracer.ts";
import { confineOutputPath } from "../store/paths.ts";
import {
  type Thresholds,
  type WatchChange,
  WatchEvaluator,
  type WatchSettings,
  WatchStore,
} from "./watch.ts";
import { WebhookNotifier, type WebhookOptions } from "./webhook.ts";

export interface LiveSessionOptions {
  /** The served trace: events live beside it; Start without an output traces into it. */
  file: string;
  /** Output paths from the page stay inside this directory (default: the file's). */
  dataDir?: string;
  /** The tracer controller (tests inject one). */
  tracer?: LiveTracer;
  /** Where watch points are kept (default `<dataDir>/.sysmon-watch.json`). */
  watchFile?: string;
  /** How webhooks are posted (tests shorten the waits). */
  webhook?: WebhookOptions;
  /** How often a file written by another `sysmon run` is looked at (ms, default 2000). */
  followIntervalMs?: number;
  /** Defaults of Start (the form can override each). */
  defaults?: Partial<Omit<LiveStartOptions, "output">>;
}

/** A new sample, from the live tracer or from the followed file. */
export interface SessionRow {
  at: number;
  row: Record<string, unknown>;
  sample?: number;
  lateMs?: number;
}

/** The state behind the live routes. */
export class LiveSession {
  readonly dataDir: string;
  readonly tracer: LiveTracer;
  readonly watchStore: WatchStore;
  readonly watch: WatchEvaluator;
  /** Why the saved watch points could not be read, or null. */
  watchProblem: string | null;
  /** Where firings are posted (null: nowhere). */
  webhookUrl: string | null;
  readonly webhook: WebhookNotifier;
  /** The automatic event of each series firing now, and the store it is in. */
  private firing = new Map<string, { store: EventStore; id: string }>();
  private current: string;
  private store: EventStore;
  private follower: FileFollower | null = null;
  private readonly followIntervalMs: number;
  /** Settings of Start that the request leaves out. */
  readonly defaults: Omit<LiveStartOptions, "output">;
  private listeners = new Set<(r: SessionRow) => void>();
  private offTracer: () => void;
  /**
   * Changes whenever the rows that follow no longer continue the ones before: tracing
   * started (again), a reset, another file. Pages holding older rows start over.
   */
  generation = 0;

  constructor(opts: LiveSessionOptions) {
    this.current = resolve(opts.file);
    // Outputs typed into the page stay beside the trace; a directory view's in the directory.
    this.dataDir = resolve(
      opts.dataDir ?? (isMany(this.current) ? manyDir(this.current) : dirname(this.current)),
    );
    this.tracer = opts.tracer ?? new LiveTracer();
    this.store = EventStore.forTrace(this.current);
    this.watchStore = new WatchStore(opts.watchFile ?? `${this.dataDir}/.sysmon-watch.json`);
    const saved = this.watchStore.load();
    this.watch = new WatchEvaluator(saved.settings.thresholds, saved.settings.forSeconds);
    this.webhookUrl = saved.settings.webhook;
    this.webhook = new WebhookNotifier(opts.webhook);
    this.watchProblem = saved.problem;
    this.followIntervalMs = opts.followIntervalMs ?? 2000;
    this.defaults = {
      sampleInterval: 5,
      writeInterval: 10,
      enableGpu: true,
      enableDocker: true,
      useUtc: false,
      ...opts.defaults,
    };
    this.offTracer = this.tracer.subscribe((r) =>
      this.onRow({ at: r.at, row: r.row, sample: r.sample, lateMs: r.lateMs })
    );
  }

  /** The trace the dashboard shows (changes when tracing starts into another file). */
  get file(): string {
    return this.current;
  }

  get events(): EventStore {
    return this.store;
  }

  get following(): FileFollower | null {
    return this.follower;
  }

  /** Follows the current file for rows another `sysmon run` writes (when not tracing here). */
  async follow() {
    if (this.tracer.running || this.follower || !this.current.endsWith(".parquet")) return;
    if (isMany(this.current)) return; // a directory or a glob: read as it is
    this.follower = new FileFollower(this.current, { intervalMs: this.followIntervalMs });
    this.follower.subscribe((r) => this.onRow(r));
    await this.follower.start();
  }

  private unfollow() {
    this.follower?.stop();
    this.follower = null;
  }

  /** Rows as they arrive (live push); returns the unsubscribe function. */
  subscribe(fn: (r: SessionRow) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Watch points run on every new row. */
  private onRow(r: SessionRow) {
    this.alert(this.watch.evaluate(r.row, r.at));
    for (const fn of this.listeners) fn(r);
  }

  /**
   * A firing becomes an automatic event from its start (and a post to the webhook, queued);
   * its end is written into that event when it clears.
   */
  private alert(changes: WatchChange[]) {
    for (const c of changes) {
      if (c.kind === "clear") {
        const open = this.firing.get(c.series);
        this.firing.delete(c.series);
        try {
          open?.store.finish(open.id, c.end);
        } catch (err) {
          console.error(`sysmon serve: cannot record the end of a watch point: ${messageOf(err)}`);
        }
        continue;
      }
      try {
        const e = this.store.add({ name: c.name, at: c.start, kind: "auto" });
        this.firing.set(c.series, { store: this.store, id: e.id });
      } catch (err) {
        console.error(`sysmon serve: cannot record '${c.name}': ${messageOf(err)}`);
      }
      if (this.webhookUrl === null) continue;
      this.webhook.send(this.webhookUrl, {
        name: c.name,
        metric: c.series,
        value: c.value,
        threshold: c.threshold,
        at: new Date(c.at).toISOString(),
        host: this.host(),
      });
    }
  }

  /** The traced host: the followed file's `sysmon.host`, else this machine. */
  private host(): string {
    try {
      const host = this.follower?.files.list()[0]?.kv.get("sysmon.host");
      if (host) return host;
    } catch (err) {
      // the file is being replaced: this machine's name is the best guess
      if (!(err instanceof Error)) throw err;
    }
    return Deno.hostname();
  }

  /** Switches the dashboard to another trace (its events come along). */
  setFile(path: string) {
    const p = resolve(path);
    if (p === this.current) return;
    this.unfollow();
    this.generation++;
    this.current = p;
    this.store = EventStore.forTrace(p);
  }

  /** Starts tracing into `output` (confined to the data directory; default: the current file). */
  async start(input: Partial<LiveStartOptions> = {}) {
    const blank = input.output === undefined || input.output.trim() === "";
    if (blank && isMany(this.current)) {
      throw new Refusal(
        "bad_input",
        "this view shows several files: give the output file to trace into",
      );
    }
    const output = blank ? this.current : confineOutputPath(input.output!, this.dataDir);
    const o: LiveStartOptions = { ...this.defaults, ...definedOnly(input), output };
    checkIntervals(o.sampleInterval, o.writeInterval, {
      sample: "sampling",
      write: "the write interval",
    });
    if (this.tracer.running) {
      throw new Refusal("conflict", `already tracing into ${this.tracer.status().options?.output}`);
    }
    const before = this.current;
    this.unfollow();
    this.setFile(output);
    this.generation++;
    try {
      return await this.tracer.start(o);
    } catch (err) {
      this.setFile(before); // the dashboard stays on what it showed
      await this.follow();
      throw err;
    }
  }

  async stop() {
    const s = await this.tracer.stop();
    this.alert(this.watch.reset()); // no more samples: what fires ends at the last one
    await this.follow();
    return s;
  }

  /** Reset: the trace so far is kept as `name_N.parquet` (with its events); tracing goes on. */
  async reset() {
    const r = await this.tracer.reset();
    this.alert(this.watch.reset()); // the archived trace keeps its firings, ended
    this.generation++;
    if (r.archived !== null) this.store.moveTo(`${r.archived}.events.csv`);
    return r;
  }

  /** The watch points as set: thresholds, `for` and the webhook. */
  get watchSettings(): WatchSettings {
    return {
      thresholds: this.watch.thresholds,
      forSeconds: this.watch.forSeconds,
      webhook: this.webhookUrl,
    };
  }

  /** Saves watch points (validated) and applies them; what is left out stays as it was. */
  setWatch(s: Partial<WatchSettings>) {
    const next = { ...this.watchSettings, ...s };
    this.watchStore.save(next); // first: settings that cannot be kept are not applied
    this.alert(this.watch.configure(next.thresholds, next.forSeconds));
    if (next.webhook !== this.webhookUrl) this.webhook.forget();
    this.webhookUrl = next.webhook;
    this.watchProblem = null;
  }

  /** Saves thresholds and applies them (`for` and the webhook stay). */
  setThresholds(t: Thresholds) {
    this.setWatch({ thresholds: t });
  }

  /** Stops the tracer (writing everything) and the follower. */
  async close() {
    this.offTracer();
    this.unfollow();
    await this.tracer.stop();
    this.alert(this.watch.reset());
    this.webhook.close();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
