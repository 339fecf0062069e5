// Writing metrics in the Prometheus text format (0.0.4) or OpenMetrics 1.0.0 text: pure, no
// I/O. A family's HELP and TYPE go out with its first sample, so a family without samples
// (no GPU, a file the kernel lacks) is left out, as node_exporter leaves it out.
//
// Label values are data (process and container names are anyone's choice): backslash, double
// quote and line feed are escaped in both formats; HELP text escapes backslash and line feed
// (and, in OpenMetrics, double quote).

export type ExpositionFormat = "prometheus" | "openmetrics";

/** `untyped` is written `unknown` in OpenMetrics. */
export type MetricType = "counter" | "gauge" | "untyped";

export type Labels = Readonly<Record<string, string>>;

export const CONTENT_TYPE: Record<ExpositionFormat, string> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/**
 * The format a scraper asks for in its Accept header: OpenMetrics when it names
 * `application/openmetrics-text` with a weight at least that of `text/plain` (Prometheus
 * 2.x asks so), else the text format.
 */
export function negotiateFormat(accept: string | null | undefined): ExpositionFormat {
  let om = -1;
  let text = -1;
  for (const part of (accept ?? "").split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    if (type === "application/openmetrics-text") om = Math.max(om, q);
    else if (type === "text/plain" || type === "*/*" || type === "text/*") text = Math.max(text, q);
  }
  return om > 0 && om >= text ? "openmetrics" : "prometheus";
}

/** Escapes a label value: `\` → `\\`, `"` → `\"`, line feed → `\n`. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v)
    ? v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")
    : v;
}

function escapeHelp(v: string, format: ExpositionFormat): string {
  const s = v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  return format === "openmetrics" ? s.replaceAll('"', '\\"') : s;
}

/** A number as both formats write it (`+Inf`, `-Inf`, `NaN`, else JavaScript's shortest form). */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Builds one exposition; `family()` then `sample()`s, then `text()`. */
export class Exposition {
  private out = "";
  private name = "";
  private header: string | null = null;
  private readonly families = new Set<string>();

  constructor(readonly format: ExpositionFormat = "prometheus") {}

  /**
   * Starts a family. Counters are named with their `_total` (`node_cpu_seconds_total`), as
   * they are queried; in OpenMetrics the family itself is then written without it.
   */
  family(name: string, type: MetricType, help: string): this {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
    if (type === "counter" && !name.endsWith("_total")) {
      throw new Error(`counter ${name} must end in _total`);
    }
    if (this.families.has(name)) throw new Error(`metric family ${name} written twice`);
    this.families.add(name);
    this.name = name;
    const om = this.format === "openmetrics";
    const family = om && type === "counter" ? name.slice(0, -"_total".length) : name;
    const typeWord = om && type === "untyped" ? "unknown" : type;
    this.header = `# HELP ${family} ${escapeHelp(help, this.format)}\n` +
      `# TYPE ${family} ${typeWord}\n`;
    return this;
  }

  /** One sample of the current family; a missing or non-finite value writes nothing. */
  sample(labels: Labels | null, value: number | null | undefined): this {
    if (value === null || value === undefined || !Number.isFinite(value)) return this;
    if (this.name === "") throw new Error("sample() before family()");
    if (this.header !== null) {
      this.out += this.header;
      this.header = null;
    }
    this.out += this.name;
    if (labels !== null) {
      let first = true;
      for (const k in labels) {
        if (!LABEL_NAME.test(k)) throw new Error(`bad label name ${JSON.stringify(k)}`);
        this.out += `${first ? "{" : ","}${k}="${escapeLabelValue(labels[k]!)}"`;
        first = false;
      }
      if (!first) this.out += "}";
    }
    this.out += ` ${formatValue(value)}\n`;
    return this;
  }

  /** The exposition (OpenMetrics ends with `# EOF`). */
  text(): string {
    return this.format === "openmetrics" ? this.out + "# EOF\n" : this.out;
  }
}
