// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line
// must be a HELP or TYPE comment, another comment, or a sample with a valid name, escaped
// labels and a number; HELP and TYPE come once per family, before its samples, which stay
// together; histogram buckets rise with le and end at +Inf equal to _count. Throws on the
// first line that breaks a rule, naming it.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count'];

function parseValue(text: string, line: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new Error(`bad sample value ${JSON.stringify(text)} in: ${line}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` starting at `at`; returns the labels and the index after `}`. */
function parseLabels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`label without = in: ${line}`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)} in: ${line}`);
    if (name in labels) throw new Error(`label ${name} repeated in: ${line}`);
    if (line[eq + 1] !== '"') throw new Error(`label value not quoted in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`bad escape \\${next} in: ${line}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } after a label in: ${line}`);
  }
  return { labels, end: i + 1 };
}

function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const type = types.get(base);
      if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  throw new Error(`sample ${name} has no TYPE line before it`);
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const closed = new Set<string>();
  let current: string | null = null;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') throw new Error('empty line in the exposition');
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue;
      const [, kind, name, rest] = match;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (kind === 'TYPE') {
        if (types.has(name)) throw new Error(`second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`unknown type in: ${line}`);
        if (samples.some((s) => familyOf(s.name, types) === name))
          throw new Error(`TYPE for ${name} after its samples`);
        types.set(name, rest);
      } else {
        if (help.has(name)) throw new Error(`second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`bad escape in HELP: ${line}`);
        help.set(name, rest);
      }
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`not a sample: ${line}`);
    const name = nameMatch[0];
    let at = name.length;
    let labels: Record<string, string> = {};
    if (line[at] === '{') ({ labels, end: at } = parseLabels(line, at));
    if (line[at] !== ' ') throw new Error(`expected a space before the value in: ${line}`);
    const parts = line.slice(at + 1).split(' ');
    if (parts.length > 2 || (parts.length === 2 && !/^-?\d+$/.test(parts[1])))
      throw new Error(`bad value or timestamp in: ${line}`);
    const value = parseValue(parts[0], line);
    const family = familyOf(name, types);
    if (family !== current) {
      if (closed.has(family)) throw new Error(`samples of ${family} are not together`);
      if (current) closed.add(current);
      current = family;
    }
    samples.push({ name, labels, value });
  }
  checkHistograms(types, samples);
  return { types, help, samples };
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: [number, number][]; count?: number }>();
    for (const s of samples) {
      if (!s.name.startsWith(family + '_')) continue;
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      if (!series.has(key)) series.set(key, { buckets: [] });
      const entry = series.get(key)!;
      if (s.name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`${family}_bucket without le`);
        entry.buckets.push([parseValue(le, le), s.value]);
      } else if (s.name === `${family}_count`) entry.count = s.value;
    }
    for (const [key, { buckets, count }] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i][0] <= buckets[i - 1][0]) throw new Error(`${family}${key}: le not rising`);
        if (buckets[i][1] < buckets[i - 1][1]) throw new Error(`${family}${key}: bucket counts fall`);
      }
      const last = buckets[buckets.length - 1];
      if (!last || last[0] !== Infinity) throw new Error(`${family}${key}: no +Inf bucket`);
      if (count !== last[1]) throw new Error(`${family}${key}: _count ${count} is not the +Inf bucket ${last[1]}`);
    }
  }
}

/** The value of one sample, or undefined; labels must match exactly those given. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exposition.samples.find(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value;
}
