// Writes the Prometheus text exposition format (version 0.0.4): one HELP and TYPE line per
// metric family, then its samples, with label values and help text escaped as the format
// requires. Knows nothing about Brook's metrics; src/http/prometheus-metrics.ts does.

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
export type Labels = Record<string, string | number>;

const NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Help text escapes backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export class ExpositionWriter {
  private readonly lines: string[] = [];
  private readonly families = new Set<string>();

  /** Starts a metric family; every sample of it must follow before the next family. */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME_PATTERN.test(name)) throw new Error(`invalid metric name ${name}`);
    if (this.families.has(name)) throw new Error(`metric family ${name} written twice`);
    this.families.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels | undefined, value: number): this {
    let text = name;
    if (labels) {
      const parts: string[] = [];
      for (const [key, labelValue] of Object.entries(labels)) {
        if (!LABEL_NAME_PATTERN.test(key)) throw new Error(`invalid label name ${key}`);
        parts.push(`${key}="${escapeLabelValue(String(labelValue))}"`);
      }
      if (parts.length > 0) text += `{${parts.join(',')}}`;
    }
    this.lines.push(`${text} ${formatValue(value)}`);
    return this;
  }

  /** A family with one unlabelled sample. */
  single(name: string, type: MetricType, help: string, value: number): this {
    return this.family(name, type, help).sample(name, undefined, value);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}
