// The columns of a container, `docker_<name>_<metric>`: their names, units and how a name
// splits back into container and metric. The collector (collect/docker) fills them.
import type { ColumnDef, Row } from "./column_types.ts";

/**
 * Metric suffixes of a container's columns, `docker_<name>_<metric>` (the original tool's
 * names). The list is fixed and no metric ends with `_<another metric>`, so a column name is
 * split by matching its suffix against this list, whatever `_` the container's name holds:
 * `docker_my_app_cpu_cpu_percent` is container `my_app_cpu`, metric `cpu_percent`.
 */
export const DOCKER_COUNTERS = [
  "net_rx_bytes",
  "net_tx_bytes",
  "blkio_read_bytes",
  "blkio_write_bytes",
] as const;

export type DockerCounter = typeof DOCKER_COUNTERS[number];

const METRIC_DEFS = [
  ["cpu_percent", "double", "percent", "CPU as docker stats shows it (100 = one CPU busy)"],
  ["mem_used_bytes", "int64", "bytes", "memory usage minus inactive page cache (docker stats)"],
  ["mem_limit_bytes", "int64", "bytes", "memory limit (the host's memory when none is set)"],
  ["mem_percent", "double", "percent", "mem_used_bytes / mem_limit_bytes"],
  ["open_files", "int64", "count", "open file descriptors of the container's init process"],
  ["net_rx_bytes", "int64", "bytes", "bytes received, summed over its interfaces"],
  ["net_tx_bytes", "int64", "bytes", "bytes sent, summed over its interfaces"],
  ["blkio_read_bytes", "int64", "bytes", "bytes read from block devices"],
  ["blkio_write_bytes", "int64", "bytes", "bytes written to block devices"],
  ["net_rx_bytes_per_sec", "double", "bytes/s", "bytes received per second"],
  ["net_tx_bytes_per_sec", "double", "bytes/s", "bytes sent per second"],
  ["blkio_read_bytes_per_sec", "double", "bytes/s", "bytes read from block devices per second"],
  ["blkio_write_bytes_per_sec", "double", "bytes/s", "bytes written per second"],
] as const;

export type DockerMetric = typeof METRIC_DEFS[number][0];

/** Every metric, in column order. */
export const DOCKER_METRICS: readonly DockerMetric[] = METRIC_DEFS.map((d) => d[0]);

/** One container's values, one per metric; null where unknown. */
export type ContainerReading = Record<DockerMetric, number | null>;

const BY_METRIC = new Map<string, { kind: ColumnDef["kind"]; unit: string; help: string }>(
  METRIC_DEFS.map(([m, kind, unit, help]) => [m, { kind, unit, help }]),
);

const DOCKER_COLUMN = new RegExp(`^docker_(.+)_(${DOCKER_METRICS.join("|")})$`);

/**
 * A container's name as it appears in column names: the name without a leading `/`, with `.`,
 * `-`, `_`, letters and digits kept and any other character replaced by `_` (Docker and
 * podman allow only `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, so a real name is kept as it is).
 */
export function columnSafeName(name: string): string {
  return name.replace(/^\//, "").replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** `docker_<name>_<metric>`. */
export function dockerColumnName(name: string, metric: DockerMetric): string {
  return `docker_${columnSafeName(name)}_${metric}`;
}

/** Splits a `docker_<name>_<metric>` column by its metric suffix; null for other columns. */
export function parseDockerColumn(column: string): { name: string; metric: DockerMetric } | null {
  const m = DOCKER_COLUMN.exec(column);
  return m ? { name: m[1]!, metric: m[2] as DockerMetric } : null;
}

/** The containers among `names`: container → metric → column, in the order first seen. */
export function dockerContainers(names: Iterable<string>): Map<string, Map<DockerMetric, string>> {
  const out = new Map<string, Map<DockerMetric, string>>();
  for (const column of names) {
    const p = parseDockerColumn(column);
    if (!p) continue;
    let m = out.get(p.name);
    if (!m) out.set(p.name, m = new Map());
    m.set(p.metric, column);
  }
  return out;
}

const LEGACY_COLUMN = new RegExp(`^(.+)_container_(${DOCKER_METRICS.join("|")})$`);

/**
 * A column's name as the dashboard reads it: the original tool's older container columns,
 * `<name>_container_<metric>`, become `docker_<name>_<metric>` unless the file (`present`)
 * already has that name; any other name is kept.
 */
export function renameLegacyColumn(column: string, present: ReadonlySet<string>): string {
  const m = LEGACY_COLUMN.exec(column);
  if (!m) return column;
  const target = `docker_${m[1]}_${m[2]}`;
  return present.has(target) ? column : target;
}

/** kind, unit and help of a `docker_<name>_<metric>` column; null when it is not one. */
export function dockerColumnDef(name: string): ColumnDef | null {
  const parsed = parseDockerColumn(name);
  const d = parsed ? BY_METRIC.get(parsed.metric) : undefined;
  if (!parsed || !d) return null;
  return { name, kind: d.kind, unit: d.unit, help: `container ${parsed.name}: ${d.help}` };
}

/** Adds one container's columns to `row`; every column null when `reading` is null. */
export function dockerColumns(row: Row, name: string, reading: ContainerReading | null): void {
  for (const metric of DOCKER_METRICS) {
    row[dockerColumnName(name, metric)] = reading ? reading[metric] : null;
  }
}
