// Containers under cAdvisor's names and labels (`container_*`; `id`, `name`, `image`), from the
// Docker collector's latest stats, so that dashboards written for cAdvisor read them. The
// Engine API gives totals per container: network counters are summed over its interfaces and
// block I/O over its devices (no `interface` or `device` label). `id` is the cgroup path
// cAdvisor shows under Docker's cgroupfs driver, `/docker/<full id>`.
import type { Exposition } from "../exposition.ts";
import type { LatestContainer } from "./docker.ts";
import type { StatsSample } from "./docker_stats.ts";

type Family = [string, "counter" | "gauge", string, (s: StatsSample) => number | null | undefined];

const FAMILIES: Family[] = [
  [
    "container_cpu_usage_seconds_total",
    "counter",
    "Cumulative cpu time consumed in seconds.",
    (s) => s.cpuTotalNs === null ? null : s.cpuTotalNs / 1e9,
  ],
  [
    "container_memory_working_set_bytes",
    "gauge",
    "Current working set in bytes.",
    (s) => s.memUsed,
  ],
  [
    "container_memory_usage_bytes",
    "gauge",
    "Current memory usage in bytes, including all memory regardless of when it was accessed",
    (s) => s.memUsage,
  ],
  [
    "container_spec_memory_limit_bytes",
    "gauge",
    "Memory limit for the container.",
    (s) => s.memLimit,
  ],
  [
    "container_network_receive_bytes_total",
    "counter",
    "Cumulative count of bytes received",
    (s) => s.netRx,
  ],
  [
    "container_network_transmit_bytes_total",
    "counter",
    "Cumulative count of bytes transmitted",
    (s) => s.netTx,
  ],
  [
    "container_fs_reads_bytes_total",
    "counter",
    "Cumulative count of bytes read",
    (s) => s.blkioRead,
  ],
  [
    "container_fs_writes_bytes_total",
    "counter",
    "Cumulative count of bytes written",
    (s) => s.blkioWrite,
  ],
  [
    "container_last_seen",
    "gauge",
    "Last time a container was seen by the exporter",
    (s) => s.readMs === null ? null : Math.floor(s.readMs / 1000),
  ],
];

/** Writes each running container's latest stats. */
export function writeContainerMetrics(w: Exposition, containers: LatestContainer[]): void {
  if (containers.length === 0) return;
  const labels = containers.map((c) => ({
    id: `/docker/${c.id}`,
    image: c.image ?? "",
    name: c.name,
  }));
  for (const [name, type, help, value] of FAMILIES) {
    w.family(name, type, help);
    containers.forEach((c, i) => w.sample(labels[i]!, value(c.stats)));
  }
  w.family(
    "sysmon_container_init_open_fds",
    "gauge",
    "Open file descriptors of the container's init process (cAdvisor counts all its processes).",
  );
  containers.forEach((c, i) => w.sample(labels[i]!, c.openFiles));
}
