// The container collector: polls the Docker Engine API on its own schedule (GET /version
// once, then /containers/json every interval and each running container's stats through a
// bounded pool, every call with a deadline); collect() copies the latest readings into a row
// without any I/O, so a slow, hung or absent daemon never delays a sample.
import type { Row } from "../../schema/columns.ts";
import { Pause } from "../pause.ts";
import {
  DEFAULT_DOCKER_HOST,
  DockerApiError,
  DockerClient,
  type DockerHost,
  parseDockerHost,
  parseJson,
  toApiError,
} from "./docker_api.ts";
import {
  type ContainerEntry,
  containerReading,
  type CpuBasis,
  negotiate,
  type Negotiated,
  parseContainerList,
  parseInspectPid,
  parseStats,
  type StatsSample,
} from "./docker_stats.ts";
import {
  columnSafeName,
  type ContainerReading,
  dockerColumns,
} from "../../schema/docker_columns.ts";

export interface DockerOptions {
  /** A DOCKER_HOST value; default the DOCKER_HOST variable, else unix:///var/run/docker.sock. */
  host?: string;
  /** Period of the polling, ms. Default 1000. */
  intervalMs?: number;
  /** Deadline of every API call, ms. Default max(3000, 2 × interval). */
  timeoutMs?: number;
  /** Stats calls in flight at once. Default 8. */
  concurrency?: number;
  /** Where /proc is, for the open files of each container's init process. Default "/proc". */
  procRoot?: string;
  /** Called once for each kind of failure, never per tick. */
  onNotice?: (message: string) => void;
  /** A reading older than this reads as null. Default 3 × interval. */
  staleMs?: number;
  /** Longest wait between retries while the daemon cannot be reached, ms. Default 30 000. */
  backoffMaxMs?: number;
}

/** A running container's latest stats (DockerCollector.latest). */
export interface LatestContainer {
  id: string;
  name: string;
  image: string | null;
  stats: StatsSample;
  /** Open files of its init process; null when unknown. */
  openFiles: number | null;
}

/** One container name's columns: keyed by name, so a container re-created with the same name
 * keeps its columns; its baseline for CPU % and rates belongs to one container id. */
interface Track {
  /** The name in column names. */
  key: string;
  name: string;
  id: string;
  prev: StatsSample | null;
  reading: ContainerReading | null;
  /** performance.now() of `reading`. */
  at: number;
  /** A stats call for it is queued or in flight: the next round skips it. */
  busy: boolean;
}

/** Latest per-container readings from the Docker Engine API; see the options for timings. */
export class DockerCollector {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly staleMs: number;
  /** Where the daemon is, as configured (for messages). */
  readonly target: string;
  private readonly host: DockerHost | null;
  private readonly hostError: string | null;
  private readonly procRoot: string;
  private readonly backoffMaxMs: number;
  private readonly onNotice: (message: string) => void;
  private client: DockerClient | null = null;
  private api: Negotiated | null = null;
  private readonly tracks = new Map<string, Track>();
  /** Containers of the latest list, by id. */
  private listed = new Map<string, ContainerEntry & { key: string }>();
  /** Init process of each container id (inspect, once per id); null when it has none. */
  private readonly pids = new Map<string, number | null>();
  private readonly told = new Set<string>();
  private readonly jobs = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private slots: number;
  private problem: string | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;
  private readonly sleep = new Pause();

  constructor(opts: DockerOptions = {}) {
    this.intervalMs = Math.max(10, Math.round(opts.intervalMs ?? 1000));
    this.timeoutMs = opts.timeoutMs ?? Math.max(3000, 2 * this.intervalMs);
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 8));
    this.slots = this.concurrency;
    this.staleMs = opts.staleMs ?? 3 * this.intervalMs;
    this.procRoot = opts.procRoot ?? "/proc";
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.onNotice = opts.onNotice ?? (() => {});
    const value = opts.host ?? envDockerHost() ?? DEFAULT_DOCKER_HOST;
    this.target = value;
    let host: DockerHost | null = null;
    let hostError: string | null = null;
    try {
      host = parseDockerHost(value);
    } catch (err) {
      if (!(err instanceof DockerApiError)) throw err;
      hostError = err.message;
    }
    this.host = host;
    this.hostError = hostError;
  }

  /** Starts polling in the background; nothing touches the daemon before this. */
  start(): void {
    if (this.loop || this.closed) return;
    if (!this.host) {
      this.fail(new DockerApiError("host", this.hostError ?? "no DOCKER_HOST"));
      return;
    }
    this.client = new DockerClient(this.host);
    this.loop = this.run();
  }

  /**
   * Adds `docker_<name>_<metric>` columns for every running container, in name order; all
   * null for one whose latest reading is older than staleMs (a hung stats call, a daemon
   * gone). A container that left the list has no columns (they read as null in the trace).
   */
  collect(row: Row): void {
    const now = performance.now();
    for (const key of [...this.tracks.keys()].sort()) {
      const t = this.tracks.get(key)!;
      dockerColumns(row, key, t.reading && now - t.at <= this.staleMs ? t.reading : null);
    }
  }

  /** The name of the running container with this id (full, or a unique prefix of ≥ 12). */
  containerOfId(id: string): string | null {
    const exact = this.listed.get(id);
    if (exact) return exact.name;
    if (id.length < 12) return null;
    let found: string | null = null;
    for (const [full, c] of this.listed) {
      if (!full.startsWith(id)) continue;
      if (found !== null) return null;
      found = c.name;
    }
    return found;
  }

  /** Running containers of the latest list, with their init process when known. */
  containers(): { id: string; name: string; pid: number | null }[] {
    return [...this.listed.values()]
      .map((c) => ({ id: c.id, name: c.name, pid: this.pids.get(c.id) ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Each running container's latest stats, for the Prometheus exposition: those with a
   * reading no older than staleMs, in name order; no I/O.
   */
  latest(): LatestContainer[] {
    const now = performance.now();
    const out: LatestContainer[] = [];
    for (const key of [...this.tracks.keys()].sort()) {
      const t = this.tracks.get(key)!;
      if (!t.prev || !t.reading || now - t.at > this.staleMs) continue;
      const image = this.listed.get(t.id)?.image ?? null;
      out.push({ id: t.id, name: t.name, image, stats: t.prev, openFiles: t.reading.open_files });
    }
    return out;
  }

  /** Why the daemon cannot be read now, or null while it answers. */
  notice(): string | null {
    return this.problem;
  }

  /** Stops polling, aborts the calls in flight and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    this.sleep.close();
    for (const w of this.waiting.splice(0)) w();
    await this.client?.close();
    await this.loop;
    await Promise.all([...this.jobs]);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const began = performance.now();
      const ok = await this.round();
      if (this.closed) return;
      failures = ok ? 0 : failures + 1;
      const wait = ok
        ? began + this.intervalMs - performance.now()
        : Math.min(this.backoffMaxMs, this.intervalMs * 2 ** Math.min(failures - 1, 20));
      await this.sleep.for(Math.max(0, wait));
    }
  }

  /** Lists the containers and starts a stats job for each one not already in flight. */
  private async round(): Promise<boolean> {
    const client = this.client!;
    try {
      if (!this.api) {
        this.api = negotiate(await client.getJson("/version", this.timeoutMs));
      }
      const list = await client.getJson(`${this.api.prefix}/containers/json`, this.timeoutMs);
      this.update(parseContainerList(list));
    } catch (err) {
      if (this.closed) return false;
      // The daemon may come back as another version (or another daemon): ask again.
      this.api = null;
      this.fail(toApiError(err, this.target));
      return false;
    }
    this.problem = null;
    for (const t of this.tracks.values()) {
      if (t.busy) continue;
      t.busy = true;
      const job = this.job(t, this.api).finally(() => {
        t.busy = false;
        this.jobs.delete(job);
      });
      this.jobs.add(job);
    }
    return true;
  }

  /** Takes in a new list: tracks by name, a fresh baseline where a name has a new id. */
  private update(entries: ContainerEntry[]): void {
    const listed = new Map<string, ContainerEntry & { key: string }>();
    const keys = new Set<string>();
    // Two names that differ only in characters replaced by `_` would share columns: the
    // later id gets its short id appended (Docker's own names never need it).
    for (const e of [...entries].sort((a, b) => a.id.localeCompare(b.id))) {
      let key = columnSafeName(e.name);
      if (keys.has(key)) key = `${key}_${e.id.slice(0, 12)}`;
      keys.add(key);
      listed.set(e.id, { ...e, key });
    }
    for (const key of [...this.tracks.keys()]) {
      if (!keys.has(key)) this.tracks.delete(key);
    }
    for (const c of listed.values()) {
      const t = this.tracks.get(c.key);
      if (t && t.id === c.id) continue;
      this.tracks.set(c.key, {
        key: c.key,
        name: c.name,
        id: c.id,
        prev: null,
        reading: null,
        at: -Infinity,
        busy: false,
      });
    }
    for (const id of this.pids.keys()) if (!listed.has(id)) this.pids.delete(id);
    this.listed = listed;
  }

  /** One container: its init pid (once per id), its stats, the open files of its init. */
  private async job(t: Track, api: Negotiated): Promise<void> {
    await this.acquire();
    try {
      if (this.closed) return;
      const client = this.client!;
      if (!this.pids.has(t.id)) {
        const pid = await this.inspect(client, api, t);
        if (pid !== undefined) this.pids.set(t.id, pid);
      }
      const query = api.oneShot ? "stream=false&one-shot=true" : "stream=false";
      const path = `${api.prefix}/containers/${t.id}/stats?${query}`;
      const res = await client.get(path, this.timeoutMs);
      // 404: it exited between the list and this call; podman answers 200 with an empty
      // body for a stopped one. Both are normal: the next list drops it.
      if (res.status === 404 || res.body.length === 0) return;
      if (res.status < 200 || res.status > 299) {
        const text = new TextDecoder().decode(res.body);
        this.tell(
          `stats-${res.status}`,
          `Docker: GET ${path} answered ${res.status} (${text.trim().slice(0, 200)}); ` +
            `that container's columns stay empty`,
        );
        return;
      }
      const sample = parseStats(
        parseJson(new TextDecoder().decode(res.body), path),
        performance.now(),
      );
      if (!sample || this.tracks.get(t.key) !== t) return;
      const pid = this.pids.get(t.id) ?? null;
      const openFiles = pid === null ? null : await countOpenFiles(this.procRoot, pid);
      const basis: CpuBasis = api.podman ? "wall" : "system";
      t.reading = containerReading(t.prev, sample, basis, openFiles);
      t.prev = sample;
      t.at = performance.now();
    } catch (err) {
      if (this.closed) return;
      const e = toApiError(err, this.target);
      // The daemon itself went away (or never let us in): the next list call says so once.
      if (["absent", "refused", "broken", "permission", "closed"].includes(e.kind)) return;
      const what = e.kind === "timeout"
        ? `a stats call did not answer within ${this.timeoutMs} ms (container ${t.name}); ` +
          `its columns read as null until it answers`
        : `stats of container ${t.name} failed: ${e.message}`;
      this.tell(`stats-${e.kind}`, `Docker: ${what}`);
    } finally {
      this.release();
    }
  }

  /** State.Pid of a container id; undefined when the call failed (asked again next time). */
  private async inspect(
    client: DockerClient,
    api: Negotiated,
    t: Track,
  ): Promise<number | null | undefined> {
    const path = `${api.prefix}/containers/${t.id}/json`;
    try {
      return parseInspectPid(await client.getJson(path, this.timeoutMs));
    } catch (err) {
      const e = toApiError(err, this.target);
      if (e.kind === "http" && e.status === 404) return null;
      if (["absent", "refused", "broken", "permission", "closed"].includes(e.kind)) {
        return undefined; // the daemon's own problem: the next list call tells it
      }
      this.tell(`inspect-${e.kind}`, `Docker: cannot inspect container ${t.name}: ${e.message}`);
      return undefined;
    }
  }

  private fail(e: DockerApiError): void {
    const message = `Docker: ${e.message}; container columns stay empty until it answers`;
    this.problem = message;
    this.tell(e.kind, message);
  }

  private tell(key: string, message: string): void {
    if (this.told.has(key)) return;
    this.told.add(key);
    this.onNotice(message);
  }

  private acquire(): Promise<void> {
    if (this.slots > 0 || this.closed) {
      this.slots--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.slots++;
  }
}

/** Entries of /proc/<pid>/fd; null when they cannot be read (gone, another pid namespace). */
export async function countOpenFiles(procRoot: string, pid: number): Promise<number | null> {
  let n = 0;
  try {
    for await (const _ of Deno.readDir(`${procRoot}/${pid}/fd`)) n++;
  } catch (err) {
    // Gone, not ours to read, or Deno not allowed to: unknown, like any process's files.
    if (
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied ||
      err instanceof Deno.errors.NotCapable
    ) return null;
    throw err;
  }
  return n;
}

function envDockerHost(): string | undefined {
  try {
    return Deno.env.get("DOCKER_HOST") || undefined;
  } catch (err) {
    // Without --allow-env the default socket is used.
    if (err instanceof Deno.errors.NotCapable) return undefined;
    throw err;
  }
}
