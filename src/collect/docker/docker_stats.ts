// Pure computations over Docker Engine API answers (containers/json, containers/{id}/json,
// containers/{id}/stats): what `docker stats` shows, as `docker_<name>_<metric>` columns.
// Written against real answers of Docker and of podman's compatible service, which differ
// (tests/fixtures/captures/docker-api/podman-4.3.1/README.md): podman zeroes precpu_stats,
// counts only CPU used by cgroups in system_cpu_usage, has no memory "stats" map, names its
// network "network" and sends an empty body for a stopped container.
import {
  type ContainerReading,
  DOCKER_COUNTERS,
  type DockerCounter,
} from "../../schema/docker_columns.ts";
import { percentOf } from "../../schema/derived.ts";

// ---- the API's JSON

/** A finite number, or null (absent, null, a string, NaN). */
function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : null;
}

/** Major and minor of an API version ("1.41"); null when it is not one. */
export function parseApiVersion(v: unknown): [number, number] | null {
  const m = typeof v === "string" ? /^v?(\d+)\.(\d+)$/.exec(v.trim()) : null;
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** a < b: -1, a = b: 0, a > b: 1. */
export function compareApiVersions(a: [number, number], b: [number, number]): number {
  return Math.sign(a[0] - b[0] || a[1] - b[1]);
}

/** The newest Engine API version sysmon speaks (Docker 29); it asks for no newer one. */
export const OUR_API_VERSION: [number, number] = [1, 52];
/** `one-shot=true` on stats (no ~1 s wait for a second reading) needs this version. */
export const ONE_SHOT_API_VERSION: [number, number] = [1, 41];

export interface Negotiated {
  /** URL prefix: `/v1.41`, or "" when the daemon did not say its version. */
  prefix: string;
  version: [number, number] | null;
  /** stats?one-shot=true is understood. */
  oneShot: boolean;
  /** The daemon is podman, whose system_cpu_usage leaves idle time out. */
  podman: boolean;
}

/**
 * The API version to speak, from GET /version: the daemon's ApiVersion, or ours when the
 * daemon's is newer (never below its MinAPIVersion, which Docker 29 raised to 1.44).
 */
export function negotiate(versionJson: unknown): Negotiated {
  const v = obj(versionJson) ?? {};
  const components = Array.isArray(v.Components) ? v.Components : [];
  const podman = components.some((c) => /podman/i.test(String(obj(c)?.Name ?? "")));
  const server = parseApiVersion(v.ApiVersion);
  if (!server) return { prefix: "", version: null, oneShot: false, podman };
  let use = compareApiVersions(server, OUR_API_VERSION) > 0 ? OUR_API_VERSION : server;
  const min = parseApiVersion(v.MinAPIVersion);
  if (min && compareApiVersions(use, min) < 0) use = min;
  return {
    prefix: `/v${use[0]}.${use[1]}`,
    version: use,
    oneShot: compareApiVersions(use, ONE_SHOT_API_VERSION) >= 0,
    podman,
  };
}

export interface ContainerEntry {
  id: string;
  /** The daemon's name, without the leading `/`. */
  name: string;
  state: string;
  /** The image it runs, as the list names it (`Image`); null when not given. */
  image?: string | null;
}

/**
 * Running containers from GET /containers/json. The name is the one of `Names` without a
 * further `/` (the others are link aliases, `/web/db`); the short id when there is none.
 */
export function parseContainerList(json: unknown): ContainerEntry[] {
  if (!Array.isArray(json)) return [];
  const out: ContainerEntry[] = [];
  for (const item of json) {
    const c = obj(item);
    const id = typeof c?.Id === "string" ? c.Id : null;
    if (!c || !id) continue;
    const state = typeof c.State === "string" ? c.State : "running";
    if (state === "exited" || state === "dead" || state === "created") continue;
    const names = (Array.isArray(c.Names) ? c.Names : [])
      .filter((n): n is string => typeof n === "string")
      .map((n) => n.replace(/^\//, ""));
    const name = names.find((n) => n !== "" && !n.includes("/")) ?? names[0] ?? id.slice(0, 12);
    out.push({ id, name, state, image: typeof c.Image === "string" ? c.Image : null });
  }
  return out;
}

/** State.Pid from GET /containers/{id}/json: the init process, null when not running. */
export function parseInspectPid(json: unknown): number | null {
  const pid = num(obj(obj(json)?.State)?.Pid);
  return pid !== null && pid > 0 ? pid : null;
}

/** The readings of one stats answer that sysmon keeps, as numbers. */
export interface StatsSample {
  /** The daemon's time of the reading ("read"), epoch ms with sub-ms digits; null if unset. */
  readMs: number | null;
  /** Local monotonic ms when the answer came: the time base when readMs is null. */
  atMs: number;
  cpuTotalNs: number | null;
  systemCpuNs: number | null;
  onlineCpus: number | null;
  memUsed: number | null;
  /** memory_stats.usage, page cache included (cAdvisor's usage); absent in older samples. */
  memUsage?: number | null;
  memLimit: number | null;
  netRx: number | null;
  netTx: number | null;
  blkioRead: number | null;
  blkioWrite: number | null;
}

/**
 * An RFC 3339 time with up to nanosecond digits as epoch ms (fractional); null for Go's zero
 * time ("0001-01-01T00:00:00Z", podman's preread) or anything unparsable.
 */
export function parseReadTime(s: unknown): number | null {
  if (typeof s !== "string") return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m || m[1]!.startsWith("0001-")) return null;
  const whole = Date.parse(m[1]! + m[3]!);
  if (!Number.isFinite(whole)) return null;
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}

/**
 * Memory as `docker stats` shows it (docker/cli calculateMemUsageUnixNoCache): usage minus
 * total_inactive_file (cgroup v1) or inactive_file (v2) when present and smaller; minus
 * `cache` for v1 daemons that give no total_inactive_file; else usage (podman has no map).
 */
export function memoryUsed(memoryStats: unknown): number | null {
  const m = obj(memoryStats);
  const usage = num(m?.usage);
  if (usage === null) return null;
  const stats = obj(m?.stats) ?? {};
  for (const key of ["total_inactive_file", "inactive_file", "cache"]) {
    const v = num(stats[key]);
    if (v !== null) return v < usage ? usage - v : usage;
  }
  return usage;
}

/** Σ rx_bytes and Σ tx_bytes over the interfaces; 0 when it has none (`--network none`). */
export function networkTotals(networks: unknown): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(obj(networks) ?? {})) {
    rx += num(obj(n)?.rx_bytes) ?? 0;
    tx += num(obj(n)?.tx_bytes) ?? 0;
  }
  return { rx, tx };
}

/**
 * Block I/O as `docker stats` sums it: io_service_bytes_recursive entries whose op starts with
 * r/R are reads, w/W writes ("Read"/"Write" on v1, "read"/"write" on v2); other ops (Sync,
 * Async, Discard, Total) are left out. 0 when the list is null or empty.
 */
export function blkioTotals(blkioStats: unknown): { read: number; write: number } {
  const list = obj(blkioStats)?.io_service_bytes_recursive;
  let read = 0;
  let write = 0;
  for (const e of Array.isArray(list) ? list : []) {
    const op = obj(e)?.op;
    const value = num(obj(e)?.value) ?? 0;
    if (typeof op !== "string") continue;
    if (op[0] === "r" || op[0] === "R") read += value;
    else if (op[0] === "w" || op[0] === "W") write += value;
  }
  return { read, write };
}

/**
 * The readings of a stats answer; null for an answer that holds none (Docker's for a stopped
 * container; podman sends an empty body, which never gets here). `atMs`: local monotonic ms.
 */
export function parseStats(json: unknown, atMs: number): StatsSample | null {
  const s = obj(json);
  // Docker's answer for a container that is not running has Go's zero time as "read".
  if (!s || (typeof s.read === "string" && s.read.startsWith("0001-"))) return null;
  const cpu = obj(s.cpu_stats);
  const usage = obj(cpu?.cpu_usage);
  const mem = obj(s.memory_stats);
  const readMs = parseReadTime(s.read);
  const cpuTotalNs = num(usage?.total_usage);
  const memUsed = memoryUsed(mem);
  if (readMs === null && cpuTotalNs === null && memUsed === null) return null;
  const percpu = Array.isArray(usage?.percpu_usage) ? usage.percpu_usage.length : 0;
  const online = num(cpu?.online_cpus);
  const net = "networks" in s ? networkTotals(s.networks) : { rx: 0, tx: 0 };
  const blk = blkioTotals(s.blkio_stats);
  const limit = num(mem?.limit);
  return {
    readMs,
    atMs,
    cpuTotalNs,
    systemCpuNs: num(cpu?.system_cpu_usage),
    onlineCpus: online !== null && online > 0 ? online : percpu > 0 ? percpu : null,
    memUsed,
    memUsage: num(mem?.usage),
    memLimit: limit !== null && limit > 0 ? limit : null,
    netRx: net.rx,
    netTx: net.tx,
    blkioRead: blk.read,
    blkioWrite: blk.write,
  };
}

/** Seconds between two readings: by the daemon's clock when both have one, else ours. */
export function elapsedSeconds(prev: StatsSample, cur: StatsSample): number | null {
  const ms = prev.readMs !== null && cur.readMs !== null
    ? cur.readMs - prev.readMs
    : cur.atMs - prev.atMs;
  return ms > 0 ? ms / 1000 : null;
}

/**
 * How CPU % is computed. "system": as `docker stats` does (docker/cli
 * calculateCPUPercentUnix): Δtotal_usage / Δsystem_cpu_usage × online_cpus × 100, right for
 * Docker, whose system_cpu_usage counts every CPU's time idle included. "wall": Δtotal_usage /
 * Δtime × 100, the same figure from the elapsed time, for podman (its system_cpu_usage leaves
 * idle time out, so the first formula gives 169 % for a container held to 0.25 CPU).
 */
export type CpuBasis = "system" | "wall";

/**
 * CPU % between two of our own readings (not the answer's precpu_stats, which podman zeroes
 * and one-shot leaves empty). 0 when idle; null when a counter is missing or went backwards
 * (the container restarted), never negative. "system" falls back to "wall" when the daemon
 * gives no system_cpu_usage.
 */
export function cpuPercent(prev: StatsSample, cur: StatsSample, basis: CpuBasis): number | null {
  if (prev.cpuTotalNs === null || cur.cpuTotalNs === null) return null;
  const cpuDelta = cur.cpuTotalNs - prev.cpuTotalNs;
  if (cpuDelta < 0) return null;
  if (basis === "system" && prev.systemCpuNs !== null && cur.systemCpuNs !== null) {
    const systemDelta = cur.systemCpuNs - prev.systemCpuNs;
    if (systemDelta <= 0 || cur.onlineCpus === null) return null;
    return (cpuDelta / systemDelta) * cur.onlineCpus * 100;
  }
  const seconds = elapsedSeconds(prev, cur);
  return seconds === null ? null : cpuDelta / (seconds * 1e9) * 100;
}

/** (cur − prev) / seconds; null when either is unknown or the counter went backwards. */
export function counterRate(
  prev: number | null,
  cur: number | null,
  seconds: number | null,
): number | null {
  if (prev === null || cur === null || seconds === null || seconds <= 0 || cur < prev) return null;
  return (cur - prev) / seconds;
}

const COUNTER_FIELD: Record<DockerCounter, keyof StatsSample> = {
  net_rx_bytes: "netRx",
  net_tx_bytes: "netTx",
  blkio_read_bytes: "blkioRead",
  blkio_write_bytes: "blkioWrite",
};

/**
 * One container's columns from its latest stats `cur`, the previous one `prev` of the same
 * container id (null on its first reading: CPU % and rates are then null) and the open files
 * of its init process (null when unknown).
 */
export function containerReading(
  prev: StatsSample | null,
  cur: StatsSample,
  basis: CpuBasis,
  openFiles: number | null,
): ContainerReading {
  const seconds = prev ? elapsedSeconds(prev, cur) : null;
  const r: ContainerReading = {
    cpu_percent: prev ? cpuPercent(prev, cur, basis) : null,
    mem_used_bytes: cur.memUsed,
    mem_limit_bytes: cur.memLimit,
    mem_percent: percentOf(cur.memUsed, cur.memLimit), // a zero limit: null, not Infinity
    open_files: openFiles,
    net_rx_bytes: cur.netRx,
    net_tx_bytes: cur.netTx,
    blkio_read_bytes: cur.blkioRead,
    blkio_write_bytes: cur.blkioWrite,
    net_rx_bytes_per_sec: null,
    net_tx_bytes_per_sec: null,
    blkio_read_bytes_per_sec: null,
    blkio_write_bytes_per_sec: null,
  };
  for (const c of DOCKER_COUNTERS) {
    const field = COUNTER_FIELD[c];
    r[`${c}_per_sec`] = prev
      ? counterRate(prev[field] as number | null, cur[field] as number | null, seconds)
      : null;
  }
  return r;
}
