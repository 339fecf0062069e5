// The column families and derived metrics of src/schema: parsed from names, never probed.
import assert from "node:assert/strict";
import {
  columnDef,
  cpuCoreColumns,
  cpuCoreIndex,
  cpuCoreLabel,
  isNumericColumn,
  psiColumnName,
} from "../src/schema/columns.ts";
import {
  cpuBusyFormula,
  cpuBusyPercent,
  formulaValue,
  gpuMemoryFormula,
  gpuMemoryPercent,
  MEMORY_PERCENT,
  memoryPercent,
  percentOf,
} from "../src/schema/derived.ts";
import { dockerContainers, renameLegacyColumn } from "../src/schema/docker_columns.ts";
import { gpuColumnName, gpuIndexes, parseGpuColumn } from "../src/schema/gpu_columns.ts";

Deno.test("cpuCoreColumns() orders cores by number, skips gaps and non-core cpu_ columns", () => {
  const names = [
    "cpu_10_utilization",
    "timestamp",
    "cpu_2_utilization",
    "cpu_busy_percent",
    "cpu_user_percent",
    "cpu_0_utilization",
    "cpu_007_utilization",
    "cpu__utilization",
    "gpu_1_utilization",
    "cpu_3_utilization_per_sec",
  ];
  assert.deepEqual(cpuCoreColumns(names), [
    "cpu_0_utilization",
    "cpu_2_utilization",
    "cpu_10_utilization",
  ]);
  assert.deepEqual(cpuCoreColumns(new Set(names)), [
    "cpu_0_utilization",
    "cpu_2_utilization",
    "cpu_10_utilization",
  ]);
  assert.deepEqual(cpuCoreColumns([]), []);
});

Deno.test("cpuCoreColumns() finds 300 cores in order, and one far beyond a gap", () => {
  const names = Array.from({ length: 300 }, (_, i) => `cpu_${299 - i}_utilization`);
  const cores = cpuCoreColumns([...names, "cpu_9000_utilization"]);
  assert.equal(cores.length, 301);
  assert.equal(cores[0], "cpu_0_utilization");
  assert.equal(cores[1], "cpu_1_utilization");
  assert.equal(cores[9], "cpu_9_utilization");
  assert.equal(cores[10], "cpu_10_utilization");
  assert.equal(cores[299], "cpu_299_utilization");
  assert.equal(cores[300], "cpu_9000_utilization");
});

Deno.test("cpuCoreIndex() and cpuCoreLabel() read a core column's number and short name", () => {
  assert.equal(cpuCoreIndex("cpu_0_utilization"), 0);
  assert.equal(cpuCoreIndex("cpu_127_utilization"), 127);
  assert.equal(cpuCoreIndex("cpu_007_utilization"), null);
  assert.equal(cpuCoreIndex("cpu_busy_percent"), null);
  assert.equal(cpuCoreLabel("cpu_12_utilization"), "cpu_12");
});

Deno.test("gpuColumnName() and parseGpuColumn() spell and split gpu_<i>_<field>", () => {
  assert.equal(gpuColumnName(3, "power_w"), "gpu_3_power_w");
  assert.deepEqual(parseGpuColumn("gpu_3_power_w"), { index: 3, suffix: "power_w" });
  assert.deepEqual(parseGpuColumn("gpu_12_mem_utilization_percent"), {
    index: 12,
    suffix: "mem_utilization_percent",
  });
  assert.equal(parseGpuColumn("gpu_3_colour"), null);
  assert.equal(parseGpuColumn("gpu_03_used"), null);
  assert.equal(parseGpuColumn("gpu_x_used"), null);
  assert.equal(parseGpuColumn("docker_gpu_1_used"), null);
});

Deno.test("gpuIndexes() lists GPUs with a utilization or used column, in index order", () => {
  const names = [
    "gpu_10_utilization",
    "gpu_2_used",
    "gpu_2_total",
    "gpu_0_utilization",
    "gpu_0_used",
    "gpu_7_temp",
    "gpu_300_used",
    "cpu_1_utilization",
  ];
  assert.deepEqual(gpuIndexes(names), [0, 2, 10, 300]);
  assert.deepEqual(gpuIndexes(["timestamp"]), []);
});

Deno.test("dockerContainers() groups container columns by name, whatever `_` the name holds", () => {
  const got = dockerContainers([
    "timestamp",
    "docker_web_cpu_percent",
    "docker_my_app_cpu_cpu_percent",
    "docker_web_mem_percent",
    "docker_my_app_cpu_net_rx_bytes_per_sec",
    "docker_web_colour",
  ]);
  assert.deepEqual([...got.keys()], ["web", "my_app_cpu"]);
  assert.deepEqual([...got.get("web")!], [
    ["cpu_percent", "docker_web_cpu_percent"],
    ["mem_percent", "docker_web_mem_percent"],
  ]);
  assert.deepEqual([...got.get("my_app_cpu")!], [
    ["cpu_percent", "docker_my_app_cpu_cpu_percent"],
    ["net_rx_bytes_per_sec", "docker_my_app_cpu_net_rx_bytes_per_sec"],
  ]);
});

Deno.test("renameLegacyColumn() renames <name>_container_<metric> unless the new name exists", () => {
  const present = new Set(["web_container_cpu_percent", "docker_db_cpu_percent"]);
  assert.equal(renameLegacyColumn("web_container_cpu_percent", present), "docker_web_cpu_percent");
  assert.equal(renameLegacyColumn("db_container_cpu_percent", present), "db_container_cpu_percent");
  assert.equal(renameLegacyColumn("web_container_colour", present), "web_container_colour");
  assert.equal(renameLegacyColumn("sys_used", present), "sys_used");
});

Deno.test("isNumericColumn() follows sysmon's definitions, else the name's unit suffix", () => {
  assert.equal(isNumericColumn("sys_used"), true);
  assert.equal(isNumericColumn("max_files_process"), false);
  assert.equal(isNumericColumn("gpu_0_pstate"), true);
  assert.equal(isNumericColumn("docker_web_mem_percent"), true);
  assert.equal(isNumericColumn("cpu_5_utilization"), true);
  assert.equal(isNumericColumn("custom_bytes"), true);
  assert.equal(isNumericColumn("custom_per_sec"), true);
  assert.equal(isNumericColumn("hostname"), false);
});

Deno.test("psiColumnName() spells the pressure columns columnDef() knows", () => {
  assert.equal(psiColumnName("memory", "full"), "psi_memory_full_avg10_percent");
  assert.ok(columnDef(psiColumnName("io", "some")));
});

Deno.test("percentOf() is null without both values or with a zero whole", () => {
  assert.equal(percentOf(1, 4), 25);
  assert.equal(percentOf(0, 4), 0);
  assert.equal(percentOf(null, 4), null);
  assert.equal(percentOf(1, null), null);
  assert.equal(percentOf(1, 0), null);
});

Deno.test("cpuBusyPercent(): cpu_busy_percent, else the mean of the cores, -1 skipped", () => {
  assert.equal(cpuBusyPercent({ cpu_busy_percent: 42.5, cpu_0_utilization: 10 }), 42.5);
  assert.equal(
    cpuBusyPercent({
      cpu_busy_percent: null,
      cpu_0_utilization: 10,
      cpu_1_utilization: 30,
      cpu_2_utilization: -1,
      cpu_3_utilization: null,
      cpu_user_percent: 99,
    }),
    20,
  );
  assert.equal(cpuBusyPercent({ cpu_10_utilization: 50, cpu_2_utilization: 25 }), 37.5);
  assert.equal(cpuBusyPercent({ cpu_busy_percent: 7n }), 7);
  assert.equal(cpuBusyPercent({ cpu_0_utilization: -1 }), null);
  assert.equal(cpuBusyPercent({ sys_used: 1 }), null);
});

Deno.test("memoryPercent() and gpuMemoryPercent() are used / total", () => {
  assert.equal(memoryPercent({ sys_used: 2 * 2 ** 30, sys_total: 8 * 2 ** 30 }), 25);
  assert.equal(memoryPercent({ sys_used: 5n, sys_total: 10n }), 50);
  assert.equal(memoryPercent({ sys_used: 1, sys_total: 0 }), null);
  assert.equal(memoryPercent({ sys_total: 10 }), null);
  assert.equal(gpuMemoryPercent({ gpu_1_used: 30, gpu_1_total: 40 }, 1), 75);
  assert.equal(gpuMemoryPercent({ gpu_0_used: 30, gpu_0_total: 40 }, 1), null);
});

Deno.test("the charts' formulas name the same columns as the row functions", () => {
  assert.deepEqual(MEMORY_PERCENT, { k: "ratio", num: "sys_used", den: "sys_total" });
  assert.deepEqual(gpuMemoryFormula(2), { k: "ratio", num: "gpu_2_used", den: "gpu_2_total" });
  assert.deepEqual(cpuBusyFormula(new Set(["cpu_busy_percent", "cpu_0_utilization"])), {
    k: "col",
    col: "cpu_busy_percent",
  });
  assert.deepEqual(
    cpuBusyFormula(new Set(["cpu_10_utilization", "cpu_2_utilization", "sys_used"])),
    { k: "mean", cols: ["cpu_2_utilization", "cpu_10_utilization"] },
  );
  const row = { cpu_2_utilization: 10, cpu_10_utilization: 20, sys_used: 3, sys_total: 12 };
  assert.equal(formulaValue(cpuBusyFormula(new Set(Object.keys(row))), row), 15);
  assert.equal(formulaValue(MEMORY_PERCENT, row), 25);
  assert.equal(formulaValue({ k: "col", col: "sys_used" }, row), 3);
});
