// GPUs under dcgm-exporter's names and labels (`DCGM_FI_DEV_*`; `gpu`, `UUID`, `device`,
// `modelName`, `Hostname`), from nvidia-smi's latest readings, so that NVIDIA's DCGM dashboard
// and alerts written for dcgm-exporter read them. Units are dcgm-exporter's (framebuffer in
// MiB, power in W, clocks in MHz, utilisation in %). What nvidia-smi cannot tell (profiling
// fields such as DCGM_FI_PROF_*, PCIe and NVLink counters, XID errors) is not written.
import type { Exposition } from "../exposition.ts";
import type { GpuReading } from "../../schema/gpu_columns.ts";
import { MIB } from "./nvidia_smi_parse.ts";

const FIELDS: [string, string, (r: GpuReading) => number | null][] = [
  ["DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", (r) => r.smClockMhz],
  ["DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).", (r) => r.memClockMhz],
  ["DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", (r) => r.tempC],
  ["DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", (r) => r.powerW],
  ["DCGM_FI_DEV_POWER_MGMT_LIMIT", "Power management limit (in W).", (r) => r.powerLimitW],
  ["DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", (r) => r.utilizationPercent],
  ["DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).", (r) => r.memUtilizationPercent],
  ["DCGM_FI_DEV_FAN_SPEED", "Fan speed (in %).", (r) => r.fanPercent],
  ["DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", (r) => mib(r.freeBytes)],
  ["DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", (r) => mib(r.usedBytes)],
  ["DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).", (r) => mib(r.totalBytes)],
];

function mib(bytes: number | null): number | null {
  return bytes === null ? null : Math.round(bytes / MIB);
}

/** Writes each GPU's readings; `hostname` is dcgm-exporter's `Hostname` label. */
export function writeGpuMetrics(w: Exposition, gpus: GpuReading[], hostname: string): void {
  if (gpus.length === 0) return;
  const labels = gpus.map((g) => ({
    gpu: String(g.index),
    UUID: g.uuid ?? "",
    device: `nvidia${g.index}`,
    modelName: g.name ?? "",
    Hostname: hostname,
  }));
  for (const [name, help, value] of FIELDS) {
    w.family(name, "gauge", help);
    gpus.forEach((g, i) => w.sample(labels[i]!, value(g)));
  }
  w.family(
    "sysmon_gpu_pstate",
    "gauge",
    "Performance state (0: P0, maximum performance; 15: P15).",
  );
  gpus.forEach((g, i) => w.sample(labels[i]!, g.pstate));
}
