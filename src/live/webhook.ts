// A watch point's webhook: each firing POSTed as JSON to a URL the user gave, from the server.
// Posting never waits on the caller: a firing is queued (a bounded queue, the oldest dropped
// when full) and sent by one worker, with a timeout, one retry after a short delay, and one
// notice when it fails (not one per failure: the next is said only after a post got through).
import { messageOf, Refusal } from "../schema/refusal.ts";

/** What a firing posts: `at` is when it fired, ISO 8601 in UTC (`Z`). */
export interface WebhookBody {
  /** The automatic event's name, "CPU% > 30 (now 93.2)". */
  name: string;
  /** The watched value: cpu, mem, threads, processes; gpu_util:N, gpu_mem:N for GPU N. */
  metric: string;
  value: number;
  threshold: number;
  at: string;
  /** The traced host's name. */
  host: string;
}

/** The longest URL taken. */
const MAX_URL_LENGTH = 2048;

/** A webhook from a request: an http or https URL (no user name or password); blank: none. */
export function validateWebhookUrl(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new Refusal("bad_input", "'webhook' must be a URL (text)");
  const text = v.trim();
  if (text === "") return null;
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  if (text.length > MAX_URL_LENGTH) {
    throw new Refusal("bad_input", `'webhook' is longer than ${MAX_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Refusal(
      "bad_input",
      `'webhook' is not a URL: '${shown}' (give one like http://127.0.0.1:9000/hook)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Refusal(
      "bad_input",
      `'webhook' must be an http:// or https:// URL, not ${url.protocol} ('${shown}')`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new Refusal("bad_input", "'webhook' must not carry a user name or password");
  }
  return url.href;
}

export interface WebhookOptions {
  /** Each attempt's limit (ms, default 5000). */
  timeoutMs?: number;
  /** The wait before the one retry (ms, default 1000). */
  retryDelayMs?: number;
  /** Posts waiting at most (default 32); the oldest is dropped when one more comes. */
  maxQueue?: number;
  /** Called once per run of failures (default: one line on stderr). */
  onNotice?: (message: string) => void;
}

interface Job {
  url: string;
  body: WebhookBody;
}

/** Sends firings to webhooks, one at a time, never blocking the caller. */
export class WebhookNotifier {
  /** What the last failure said, until a post gets through again; null when all is well. */
  notice: string | null = null;
  /** Notices given in all (one per run of failures). */
  notices = 0;
  sent = 0;
  failed = 0;
  dropped = 0;
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly maxQueue: number;
  private readonly onNotice: (message: string) => void;
  private queue: Job[] = [];
  private worker: Promise<void> | null = null;
  private stopped = new AbortController();

  constructor(opts: WebhookOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retryDelayMs = opts.retryDelayMs ?? 1000;
    this.maxQueue = opts.maxQueue ?? 32;
    this.onNotice = opts.onNotice ?? ((m) => console.error(`sysmon serve: ${m}`));
  }

  /** Queues a post (returns at once). */
  send(url: string, body: WebhookBody) {
    if (this.stopped.signal.aborted) return;
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ url, body });
    this.worker ??= this.drain().finally(() => this.worker = null);
  }

  /** Resolves once every queued post was tried (tests). */
  async idle() {
    while (this.worker !== null) await this.worker;
  }

  /** Forgets the failure said (another URL gets a fresh start). */
  forget() {
    this.notice = null;
  }

  /** Drops what waits and aborts a post under way. */
  close() {
    this.queue = [];
    this.stopped.abort();
  }

  private async drain() {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      let problem = await this.attempt(job);
      if (problem !== null && !this.stopped.signal.aborted) {
        await this.pause(this.retryDelayMs);
        problem = await this.attempt(job);
      }
      if (this.stopped.signal.aborted) return;
      if (problem === null) {
        this.sent++;
        this.notice = null;
        continue;
      }
      this.failed++;
      if (this.notice !== null) continue; // said already: once until a post gets through
      this.notice = `webhook ${job.url}: ${problem} (tried twice; said once until a post ` +
        `gets through)`;
      this.notices++;
      this.onNotice(this.notice);
    }
  }

  /** One POST of the JSON body and nothing else; null when it got through, else why not. */
  private async attempt(job: Job): Promise<string | null> {
    const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const res = await fetch(job.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(job.body),
        redirect: "manual", // a redirect is not followed, to another scheme or anywhere
        credentials: "omit",
        signal,
      });
      await res.body?.cancel();
      if (res.ok) return null;
      if (res.status >= 300 && res.status < 400) {
        return `answered ${res.status}, a redirect (not followed)`;
      }
      return `answered ${res.status} ${res.statusText}`.trim();
    } catch (err) {
      if (signal.aborted && !this.stopped.signal.aborted) {
        return `no answer within ${this.timeoutMs / 1000} s`;
      }
      return messageOf(err);
    }
  }

  private pause(ms: number): Promise<void> {
    const signal = this.stopped.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
