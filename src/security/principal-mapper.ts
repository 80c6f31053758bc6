// Kafka's ssl.principal.mapping.rules (SslPrincipalMapper): a comma-separated list of
// `RULE:pattern/replacement/[LU]` and `DEFAULT`, tried in order against the client
// certificate's subject DN in RFC 2253 form; the first rule whose pattern matches the
// whole DN gives the principal name, DEFAULT gives the DN itself, and no match at all
// fails the authentication. Patterns and replacements follow java.util.regex, whose
// syntax JavaScript shares for everything such rules use.

/** Thrown when no rule applies to a DN (Kafka's NoMatchingRule): the connection is refused. */
export class NoMatchingRuleError extends Error {
  override name = 'NoMatchingRuleError';
}

/** Thrown for rules that cannot be parsed or compiled. */
export class MappingRuleError extends Error {
  override name = 'MappingRuleError';
}

const RULE_PATTERN = String.raw`(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`;
const RULE_PARSER = new RegExp(`^(?:${RULE_PATTERN})`);
/** Bounds the rules text before any regular expression runs over it. */
export const MAPPING_RULES_LENGTH_MAX = 16384;

interface Rule {
  isDefault: boolean;
  /** The pattern anchored at both ends (Java's Matcher.matches). */
  whole: RegExp | null;
  /** The pattern for the global replace (Java's String.replaceAll). */
  global: RegExp | null;
  source: string;
  replacement: string;
  groupCount: number;
  toLowerCase: boolean;
  toUpperCase: boolean;
}

export class SslPrincipalMapper {
  private readonly rules: Rule[];

  constructor(rulesText: string) {
    this.rules = splitRules(rulesText)
      .map(parseRule)
      .filter((rule): rule is Rule => rule !== null);
  }

  /** The principal name for a subject DN; throws NoMatchingRuleError when no rule applies. */
  getName(distinguishedName: string): string {
    for (const rule of this.rules) {
      const name = applyRule(rule, distinguishedName);
      if (name !== null) return name;
    }
    throw new NoMatchingRuleError(`no ssl.principal.mapping.rules rule applies to ${distinguishedName}`);
  }

  /** The parsed rules as Kafka prints them: "SslPrincipalMapper(rules = [RULE:p/r/L, DEFAULT])". */
  toString(): string {
    const rules = this.rules.map((rule) =>
      rule.isDefault
        ? 'DEFAULT'
        : `RULE:${rule.source}/${rule.replacement}${rule.toLowerCase ? '/L' : rule.toUpperCase ? '/U' : ''}`,
    );
    return `SslPrincipalMapper(rules = [${rules.join(', ')}])`;
  }
}

const mappers = new Map<string, SslPrincipalMapper>();
const MAPPER_CACHE_MAX = 64;

/** Applies `rules` (ssl.principal.mapping.rules) to an RFC 2253 subject DN. */
export function mapPrincipal(subjectDn: string, rules: string): string {
  let mapper = mappers.get(rules);
  if (!mapper) {
    mapper = new SslPrincipalMapper(rules);
    if (mappers.size >= MAPPER_CACHE_MAX) mappers.clear();
    mappers.set(rules, mapper);
  }
  return mapper.getName(subjectDn);
}

/** Kafka's RULE_SPLITTER: rules separated by commas (which also appear inside patterns). */
function splitRules(text: string): string[] {
  if (text.length > MAPPING_RULES_LENGTH_MAX) {
    throw new MappingRuleError(`the rules are longer than ${MAPPING_RULES_LENGTH_MAX} characters`);
  }
  const splitter = new RegExp(String.raw`\s*(${RULE_PATTERN})\s*(,\s*|$)`, 'g');
  const trimmed = text.trim();
  const rules: string[] = [];
  for (;;) {
    const match = splitter.exec(trimmed);
    if (!match) break;
    rules.push(match[1]);
    // As java.util.regex.Matcher.find: after an empty match the next search starts one further on.
    if (match[0].length === 0) splitter.lastIndex++;
    if (splitter.lastIndex > trimmed.length) break;
  }
  return rules;
}

function parseRule(text: string): Rule | null {
  const match = RULE_PARSER.exec(text)!;
  if (match[0].length !== text.length) {
    throw new MappingRuleError(`invalid rule \`${text}\`, unmatched substring: \`${text.slice(match[0].length)}\``);
  }
  if (match[1] !== undefined) {
    return {
      isDefault: true,
      whole: null,
      global: null,
      source: 'DEFAULT',
      replacement: '',
      groupCount: 0,
      toLowerCase: false,
      toUpperCase: false,
    };
  }
  if (match[2] === undefined) return null; // empty rules are ignored, as in Kafka
  const source = match[2];
  let whole: RegExp;
  let global: RegExp;
  let groupCount: number;
  try {
    whole = new RegExp(`^(?:${source})$`);
    global = new RegExp(source, 'g');
    groupCount = new RegExp(`${source}|`).exec('')!.length - 1;
  } catch (error) {
    throw new MappingRuleError(`invalid pattern in rule \`${text}\`: ${(error as Error).message}`);
  }
  return {
    isDefault: false,
    whole,
    global,
    source,
    replacement: match[4],
    groupCount,
    toLowerCase: match[6] === 'L',
    toUpperCase: match[6] === 'U',
  };
}

function applyRule(rule: Rule, dn: string): string | null {
  if (rule.isDefault) return dn;
  if (!rule.whole!.test(dn)) return null;
  rule.global!.lastIndex = 0;
  let result = dn.replace(rule.global!, (...args: unknown[]) => {
    // args: match, groups..., offset, string[, named groups]
    const groups = args.slice(0, rule.groupCount + 1) as (string | undefined)[];
    const last = args[args.length - 1];
    const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
    return expandReplacement(rule.replacement, groups, named, rule.groupCount);
  });
  if (rule.toLowerCase) result = result.toLowerCase();
  else if (rule.toUpperCase) result = result.toUpperCase();
  return result;
}

/**
 * java.util.regex replacement syntax: `\x` is a literal x, `$n` a group (taking as many
 * digits as still name a group), `${name}` a named group. Kafka first turns references
 * to groups beyond the pattern's count into literal text (so `$3` with two groups stays
 * "$3"), except when the pattern has no groups at all, where Java fails the match.
 */
function expandReplacement(
  replacement: string,
  groups: (string | undefined)[],
  named: Record<string, string | undefined>,
  groupCount: number,
): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const ch = replacement[i];
    if (ch === '\\') {
      i++;
      if (i >= replacement.length) throw new NoMatchingRuleError('character to be escaped is missing in a replacement');
      out += replacement[i];
      continue;
    }
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const next = replacement[i + 1];
    if (next === '{') {
      const close = replacement.indexOf('}', i + 2);
      const name = close < 0 ? '' : replacement.slice(i + 2, close);
      if (!name || !(name in named)) throw new NoMatchingRuleError(`no group named "${name}" in a replacement`);
      out += named[name] ?? '';
      i = close;
      continue;
    }
    if (next === undefined || next < '0' || next > '9')
      throw new NoMatchingRuleError('illegal group reference in a replacement');
    let reference = next.charCodeAt(0) - 48;
    if (reference > groupCount) {
      if (groupCount === 0) throw new NoMatchingRuleError(`no group ${reference} in a replacement`);
      out += '$'; // an escaped literal reference: the digits follow as text
      continue;
    }
    i++;
    while (i + 1 < replacement.length && replacement[i + 1] >= '0' && replacement[i + 1] <= '9') {
      const longer = reference * 10 + (replacement.charCodeAt(i + 1) - 48);
      if (longer > groupCount) break;
      reference = longer;
      i++;
    }
    out += groups[reference] ?? '';
  }
  return out;
}
