// A chart as the page carries it: a figure with its caption, a PNG button, the place uPlot
// draws into, and its configuration as JSON (static/js/charts/build.js builds and destroys
// the chart).
import { raw } from "hono/html";
import type { ChartModel } from "./charts.ts";

/**
 * JSON inside `<script type="application/json">`. The one place that writes unescaped text:
 * every `<`, `>`, `&` and line separator is written as a \u escape, so no string in the data
 * (a hostile column or container name) can close the script element or start markup; the
 * browser never decodes entities there, so escaping them as HTML would corrupt the JSON.
 */
export function JsonData(props: { id?: string; class?: string; value: unknown }) {
  const text = JSON.stringify(props.value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return <script type="application/json" id={props.id} class={props.class}>{raw(text)}</script>;
}

/** The configuration static/js/charts/build.js reads: all but the data (that is the panel's). */
export function chartConfig(c: ChartModel) {
  return {
    id: c.id,
    title: c.title,
    unit: c.unit,
    kind: c.kind,
    block: c.block,
    series: c.series,
    y: c.y ?? null,
    bars: c.bars ?? null,
  };
}

export function Chart({ chart }: { chart: ChartModel }) {
  const cls = `chart chart-${chart.kind}${chart.wide ? " wide" : ""}`;
  if (chart.hidden) {
    return (
      <figure class={`${cls} hidden-chart`} id={`chart-${chart.id}`}>
        <figcaption>
          <span class="chart-title">{chart.title}</span>
        </figcaption>
        <p class="note">{chart.hidden}</p>
      </figure>
    );
  }
  const unit = chart.unit ? ` (${chart.unit})` : "";
  return (
    <figure class={cls} id={`chart-${chart.id}`} data-chart={chart.id}>
      <figcaption>
        <span class="chart-title" title={chart.help}>{chart.title}{unit}</span>
        <button type="button" class="png" data-png={chart.id} title="Save this chart as PNG">
          PNG
        </button>
      </figcaption>
      {chart.empty ? <p class="note">No values in this range.</p> : null}
      <div class="plot" />
      {chart.kind === "heatmap"
        ? (
          <div class="heat-foot">
            <output class="heat-readout" />
            <span class="heat-scale" aria-label="colour scale">
              0 % <i /> 100 %
            </span>
          </div>
        )
        : null}
      <JsonData class="chart-config" value={chartConfig(chart)} />
    </figure>
  );
}
