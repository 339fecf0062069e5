// Which charts each tab shows and which queries they need: one planner per tab (tabs/*.ts),
// then block 0, the query of every chart and card that does not ask for its own.
import {
  CHART_POINTS,
  exprColumns,
  HALF_CHART_POINTS,
  type PlanInput,
  type TabInput,
  type TabPlan,
} from "./chart_spec.ts";
import type { TabName, ViewState } from "./state.ts";
import { planContainers } from "./tabs/containers.ts";
import { planCpu } from "./tabs/cpu.ts";
import { planGpu } from "./tabs/gpu.ts";
import { planIo } from "./tabs/io.ts";
import { planOverview } from "./tabs/overview.ts";

export { containerLatestColumns } from "./tabs/containers.ts";

const PLANNERS: Record<TabName, (t: TabInput) => void> = {
  overview: planOverview,
  cpu: planCpu,
  io: planIo,
  gpu: planGpu,
  containers: planContainers,
  // Processes: charts of the `processes` column, not of columns (views/tabs/processes.ts).
  processes: () => {},
  // The process tree has no charts (views/proctree.tsx).
  proctree: () => {},
};

/** Which charts a tab shows for a trace and which queries they need. */
export function planTab(tab: TabName, state: ViewState, input: PlanInput): TabPlan {
  const names = new Set(input.columns.map((c) => c.name));
  const plan: TabPlan = { tab, blocks: [], charts: [], cards: [], bars: [], notes: [] };
  PLANNERS[tab]({ plan, names, state, input });
  // Block 0: every column the charts and cards of block 0 read, that the file has.
  const want = new Set<string>();
  for (const c of plan.charts) {
    if (c.block === 0) {
      for (const s of c.series) exprColumns(s.expr).forEach((x) => want.add(x));
    }
  }
  for (const card of plan.cards) {
    card.series && exprColumns(card.series.expr).forEach((x) => want.add(x));
  }
  // Block 0 is drawn full width on the Overview, half width elsewhere.
  const wide = plan.charts.some((c) => c.block === 0 && c.wide);
  plan.blocks[0] = {
    columns: [...want].filter((c) => names.has(c)),
    points: input.points ?? (wide ? CHART_POINTS : HALF_CHART_POINTS),
  };
  return plan;
}
