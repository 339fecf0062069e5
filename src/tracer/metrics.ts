// What the tracer serves at /metrics (`sysmon run --listen`, and `sysmon serve` through the
// --control protocol): the newest sample's readings under the names of the exporters whose
// dashboards users already have (node_exporter, dcgm-exporter, cAdvisor), the top processes
// grouped by name (as process-exporter groups them), and the tracer's own health. Nothing is
// read from /proc for a scrape: the text is built from what the last sample kept, once per
// sample and format, and handed out again until the next sample or write.
import { Exposition, type ExpositionFormat } from "../collect/exposition.ts";
import { readUname, type Uname, writeNodeMetrics } from "../collect/node_metrics.ts";
import type { Source } from "../collect/sources.ts";
import type { SystemSampler } from "../collect/system.ts";
import type { ProcessRecord, Row } from "../schema/columns.ts";
import { VERSION } from "../store/metadata.ts";
import type { MonitorHooks, MonitorStatus, SampleTiming } from "./monitor.ts";
import type { ValidOptions } from "./options.ts";

/** Process groups kept after their name left the top processes, before they are forgotten. */
const GROUP_FORGET_MS = 10 * 60_000;
/** The most process groups kept (the series a scrape can hold stay bounded). */
const MAX_GROUPS = 500;
/** A label value's longest length (a process name is at most what argv[0] holds). */
const MAX_LABEL = 128;

/** The /proc sources the sampler names in `unavailable` when it cannot read them. */
const HOST_SOURCES = ["disk", "meminfo", "network", "pressure", "stat"];

/** The top processes of one name: cumulative while they are in the list, and now. */
interface Group {
  cpuSeconds: number;
  readBytes: number;
  writtenBytes: number;
  /** This sample's sums (zero when the name is not in this sample's list). */
  procs: number;
  threads: number;
  rss: number;
  gpuMemory: number;
  lastSeenMs: number;
}

/** `hooks` that also feed `metrics` (monitorToParquet's onStart, onSample and onWrite). */
export function withMetrics(metrics: TracerMetrics, hooks: MonitorHooks): MonitorHooks {
  return {
    ...hooks,
    onStart: (parts) => {
      metrics.attach(parts.sampler, parts.sources, parts.options);
      hooks.onStart?.(parts);
    },
    onSample: (status, row, timing) => {
      metrics.sampled(status, row, timing);
      hooks.onSample?.(status, row, timing);
    },
    onWrite: (status) => {
      metrics.wrote(status);
      hooks.onWrite?.(status);
    },
  };
}

/** The tracer's metrics; fed through withMetrics, read by the listener or the control protocol. */
export class TracerMetrics {
  private sampler: SystemSampler | null = null;
  private sources: Source[] = [];
  private options: ValidOptions | null = null;
  private uname: Uname | null = null;
  private samples = 0;
  private late = 0;
  private skipped = 0;
  private writes = 0;
  private writeErrors = 0;
  private lastLateMs: number | null = null;
  private lastTakenMs: number | null = null;
  private lastDueMs: number | null = null;
  private status: MonitorStatus | null = null;
  private readonly groups = new Map<string, Group>();
  /** Bumped by every sample and write: a cached text of an older one is stale. */
  private generation = 0;
  private readonly cache = new Map<ExpositionFormat, { generation: number; text: string }>();

  /** Called once the sampler and sources exist (monitorToParquet). */
  attach(sampler: SystemSampler, sources: Source[], options: ValidOptions) {
    this.sampler = sampler;
    this.sources = sources;
    this.options = options;
    this.uname = readUname(sampler.fs);
    this.generation++;
  }

  /** After every sample. */
  sampled(status: MonitorStatus, row: Row, timing: SampleTiming) {
    const intervalMs = (this.options?.sampleInterval ?? 1) * 1000;
    const takenMs = timing.dueMs + timing.lateMs;
    this.samples = status.samples;
    this.status = status;
    this.lastLateMs = timing.lateMs;
    if (timing.lateMs > intervalMs / 10) this.late++;
    if (this.lastDueMs !== null) {
      const slots = Math.round((timing.dueMs - this.lastDueMs) / intervalMs);
      if (slots > 1) this.skipped += slots - 1;
    }
    const seconds = this.lastTakenMs === null
      ? intervalMs / 1000
      : (takenMs - this.lastTakenMs) / 1000;
    this.lastDueMs = timing.dueMs;
    this.lastTakenMs = takenMs;
    if (Array.isArray(row.processes)) this.group(row.processes, seconds, takenMs);
    this.generation++;
  }

  /** After every write, failed or not. */
  wrote(status: MonitorStatus) {
    this.status = status;
    this.writes++;
    if (status.error !== null) this.writeErrors++;
    this.generation++;
  }

  /** The exposition in `format`, built at most once per sample and write. */
  render(format: ExpositionFormat): string {
    const hit = this.cache.get(format);
    if (hit && hit.generation === this.generation) return hit.text;
    const w = new Exposition(format);
    const latest = this.sampler?.latest ?? null;
    if (latest) writeNodeMetrics(w, latest, this.uname);
    if (this.samples > 0) { for (const s of this.sources) s.metrics?.(w); }
    this.writeGroups(w);
    this.writeHealth(w);
    const text = w.text();
    this.cache.set(format, { generation: this.generation, text });
    return text;
  }

  /** Sums this sample's top processes by name; CPU time and I/O accumulate while listed. */
  private group(processes: ProcessRecord[], seconds: number, nowMs: number) {
    for (const g of this.groups.values()) {
      g.procs =
        g.threads =
        g.rss =
        g.gpuMemory =
          0;
    }
    for (const p of processes) {
      const name = p.name.length > MAX_LABEL ? p.name.slice(0, MAX_LABEL) : p.name;
      let g = this.groups.get(name);
      if (!g) {
        g = {
          cpuSeconds: 0,
          readBytes: 0,
          writtenBytes: 0,
          procs: 0,
          threads: 0,
          rss: 0,
          gpuMemory: 0,
          lastSeenMs: nowMs,
        };
        this.groups.set(name, g);
      }
      g.lastSeenMs = nowMs;
      g.procs++;
      g.threads += p.threads ?? 0;
      g.rss += p.rss_bytes ?? 0;
      g.gpuMemory += p.gpu_memory_bytes ?? 0;
      // Rates since the previous sample, times the time since it: never negative.
      g.cpuSeconds += Math.max(0, (p.cpu_percent ?? 0) / 100 * seconds);
      g.readBytes += Math.max(0, (p.read_bytes_per_sec ?? 0) * seconds);
      g.writtenBytes += Math.max(0, (p.write_bytes_per_sec ?? 0) * seconds);
    }
    for (const [name, g] of this.groups) {
      if (nowMs - g.lastSeenMs > GROUP_FORGET_MS) this.groups.delete(name);
    }
    if (this.groups.size > MAX_GROUPS) {
      const oldest = [...this.groups].sort(([, a], [, b]) => a.lastSeenMs - b.lastSeenMs);
      for (const [name] of oldest.slice(0, this.groups.size - MAX_GROUPS)) this.groups.delete(name);
    }
  }

  private writeGroups(w: Exposition) {
    const listed = [...this.groups].filter(([, g]) => g.procs > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const family = (
      name: string,
      type: "counter" | "gauge",
      help: string,
      v: (g: Group) => number,
    ) => {
      w.family(name, type, help);
      for (const [groupname, g] of listed) w.sample({ groupname }, v(g));
    };
    const top = "of the processes of this name among the top processes";
    family("sysmon_top_process_count", "gauge", `Processes ${top}.`, (g) => g.procs);
    family("sysmon_top_process_threads", "gauge", `Threads ${top}.`, (g) => g.threads);
    family(
      "sysmon_top_process_resident_memory_bytes",
      "gauge",
      `Resident memory ${top}.`,
      (g) => g.rss,
    );
    family(
      "sysmon_top_process_gpu_memory_bytes",
      "gauge",
      `GPU memory ${top}.`,
      (g) => g.gpuMemory,
    );
    family(
      "sysmon_top_process_cpu_seconds_total",
      "counter",
      `CPU time ${top}, counted while they are listed.`,
      (g) => g.cpuSeconds,
    );
    family(
      "sysmon_top_process_read_bytes_total",
      "counter",
      `Bytes read from storage ${top}, counted while they are listed.`,
      (g) => g.readBytes,
    );
    family(
      "sysmon_top_process_written_bytes_total",
      "counter",
      `Bytes written to storage ${top}, counted while they are listed.`,
      (g) => g.writtenBytes,
    );
  }

  private writeHealth(w: Exposition) {
    const st = this.status;
    w.family("sysmon_build_info", "gauge", "sysmon's version; always 1.")
      .sample({ version: VERSION }, 1);
    w.family(
      "sysmon_sample_interval_seconds",
      "gauge",
      "Seconds between samples (--sample-interval).",
    )
      .sample(null, this.options?.sampleInterval);
    w.family("sysmon_samples_total", "counter", "Samples taken.").sample(null, this.samples);
    w.family(
      "sysmon_samples_late_total",
      "counter",
      "Samples taken later than a tenth of the sample interval after they were due.",
    ).sample(null, this.late);
    w.family(
      "sysmon_samples_skipped_total",
      "counter",
      "Samples not taken: the tracer fell behind by a whole interval (a suspended machine).",
    ).sample(null, this.skipped);
    w.family("sysmon_sample_lateness_seconds", "gauge", "How late the last sample was taken.")
      .sample(null, this.lastLateMs === null ? null : this.lastLateMs / 1000);
    w.family(
      "sysmon_last_sample_timestamp_seconds",
      "gauge",
      "When the last sample was taken, seconds since the epoch.",
    ).sample(null, this.lastTakenMs === null ? null : this.lastTakenMs / 1000);
    w.family("sysmon_writes_total", "counter", "Writes of the trace (journal appends and folds).")
      .sample(null, this.writes);
    w.family("sysmon_write_errors_total", "counter", "Writes that failed (disk full, …).")
      .sample(null, this.writeErrors);
    w.family("sysmon_rows_written", "gauge", "Rows of the trace written to disk.")
      .sample(null, st?.rowsWritten);
    w.family("sysmon_output_size_bytes", "gauge", "Size of the trace's file.")
      .sample(null, st?.fileBytes);
    this.writeSources(w);
  }

  private writeSources(w: Exposition) {
    const down = new Set<string>();
    for (const key of this.sampler?.unavailable.keys() ?? []) down.add(key);
    const names = new Set([...HOST_SOURCES, ...down]);
    for (const s of this.sources) {
      names.add(s.name);
      if (s.problem() !== null) down.add(s.name);
    }
    w.family("sysmon_source_up", "gauge", "Whether a source can be read (1) or not (0).");
    for (const source of [...names].sort()) w.sample({ source }, down.has(source) ? 0 : 1);
    w.family("sysmon_sources_unavailable", "gauge", "Sources that cannot be read now.")
      .sample(null, down.size);
  }
}
