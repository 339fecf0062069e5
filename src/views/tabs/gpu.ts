// GPU: one line per GPU in each chart.
import { gpuMemoryFormula } from "../../schema/derived.ts";
import { gpuColumnName, gpuIndexes } from "../../schema/gpu_columns.ts";
import { chart, col, GiB, line, type TabInput } from "../chart_spec.ts";

/** GPU i's column with `suffix`, checked against the GPU column table. */
const gpuCol = (i: number, suffix: string) => col(gpuColumnName(i, suffix));

export function planGpu({ plan, names }: TabInput): void {
  const gpus = gpuIndexes(names);
  if (gpus.length === 0) {
    plan.notes.push(
      "No GPU columns (gpu_<i>_*) in this trace: it was recorded without an NVIDIA GPU, " +
        "with --no-gpu, or without nvidia-smi.",
    );
    return;
  }
  const each = (suffix: string, label = (i: number) => `GPU ${i}`, scale = 1) =>
    gpus.map((i) => line(label(i), gpuCol(i, suffix), scale));
  plan.charts.push(
    chart("gpu-util", "GPU utilisation", "%", each("utilization"), { y: [0, 100] }),
    chart(
      "gpu-mem",
      "GPU memory used",
      "%",
      gpus.map((i) => ({ label: `GPU ${i}`, expr: gpuMemoryFormula(i), scale: 1 })),
      { y: [0, 100], help: "gpu_<i>_used / gpu_<i>_total" },
    ),
    chart("gpu-mem-bytes", "GPU memory", "GiB", each("used", (i) => `GPU ${i} used`, 1 / GiB)),
    chart("gpu-temp", "GPU temperature", "°C", each("temp")),
    chart("gpu-power", "GPU power", "W", each("power_w")),
  );
}
