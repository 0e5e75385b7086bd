import { FilterError } from '../experiments/filter.js';

/**
 * The filters of MLflow's registry searches (`registered-models/search`, `model-versions/search`):
 * clauses joined by AND over `name`, `tags.<key>` and, for versions, `run_id`, `source_path` and
 * `version_number`. Registries are small (a model per project, a version per training run), so
 * clauses are matched in the server, not in SQL.
 *
 * @example
 *   matches(parseRegistryFilter("name LIKE 'fraud%' and tags.team = 'risk'", 'model'), { name: 'fraud-v2', tags })
 */

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
export interface RegistryClause {
  key: string;
  tag: boolean;
  op: Op;
  value: string | number | (string | number)[];
}

const FIELDS = { model: ['name'], version: ['name', 'run_id', 'source_path', 'version_number'] } as const;

const VALUE = String.raw`'(?:[^']|'')*'|"(?:[^"]|"")*"|-?\d+(?:\.\d+)?`;
const CLAUSE = new RegExp(
  String.raw`^\s*(tags?\.(?:\x60[^\x60]+\x60|"[^"]+"|[\w./-]+)|[a-z_]+)\s*(<=|>=|!=|<>|==|=|<|>|NOT\s+IN\b|IN\b|LIKE\b|ILIKE\b)\s*(\((?:\s*(?:${VALUE})\s*,?)+\)|${VALUE})\s*$`,
  'i',
);

function literal(text: string): string | number {
  const t = text.trim();
  if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('"')) return t.slice(1, -1).replace(/""/g, '"');
  return Number(t);
}

/** Splits on AND outside quotes. */
function clauses(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
    } else if (/\s/.test(c) && /^\s+AND\s+/i.test(text.slice(i))) {
      out.push(text.slice(start, i));
      const m = /^\s+AND\s+/i.exec(text.slice(i))!;
      i += m[0].length - 1;
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export function parseRegistryFilter(text: string | undefined, kind: keyof typeof FIELDS): RegistryClause[] {
  if (!text || text.trim() === '') return [];
  return clauses(text).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw new FilterError(`cannot parse "${part.trim()}": expected <field> <comparator> <value>`);
    const [, rawKey, rawOp, rawValue] = m as unknown as [string, string, string, string];
    const op = rawOp.toUpperCase().replace(/\s+/g, ' ').replace('<>', '!=').replace('==', '=') as Op;
    const tag = /^tags?\./i.test(rawKey);
    const key = tag ? rawKey.replace(/^tags?\./i, '').replace(/^[`"](.*)[`"]$/, '$1') : rawKey.toLowerCase();
    if (!tag && !(FIELDS[kind] as readonly string[]).includes(key)) {
      throw new FilterError(`invalid attribute key '${key}': use ${FIELDS[kind].join(', ')} or tags.<key>`);
    }
    const value = rawValue.trim().startsWith('(')
      ? [...rawValue.matchAll(new RegExp(VALUE, 'g'))].map((v) => literal(v[0]))
      : literal(rawValue);
    if ((op === 'IN' || op === 'NOT IN') !== Array.isArray(value)) {
      throw new FilterError(`"${part.trim()}": IN and NOT IN take a list like ('a', 'b'), other comparators one value`);
    }
    return { key, tag, op, value };
  });
}

function like(pattern: string, insensitive: boolean): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${body}$`, insensitive ? 'is' : 's');
}

function test(actual: string | number | undefined, op: Op, value: RegistryClause['value']): boolean {
  // A model without the tag is not equal to any value: MLflow 3's client leaves prompts out of every
  // search with "tags.`mlflow.prompt.is_prompt` != 'true'", which must keep the models that lack it.
  if (actual === undefined) return op === '!=' || op === 'NOT IN';
  switch (op) {
    case 'IN':
      return (value as (string | number)[]).some((v) => String(v) === String(actual));
    case 'NOT IN':
      return !(value as (string | number)[]).some((v) => String(v) === String(actual));
    case 'LIKE':
    case 'ILIKE':
      return like(String(value), op === 'ILIKE').test(String(actual));
    case '=':
      return String(actual) === String(value);
    case '!=':
      return String(actual) !== String(value);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [a, b] = typeof actual === 'number' ? [actual, Number(value)] : [String(actual), String(value)];
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
  }
}

/** Whether a model or version (its fields and tags) passes every clause. */
export function matches(
  clauses: readonly RegistryClause[],
  item: { fields: Record<string, string | number | undefined>; tags: readonly { key: string; value: string }[] },
): boolean {
  return clauses.every((c) => test(c.tag ? item.tags.find((t) => t.key === c.key)?.value : item.fields[c.key], c.op, c.value));
}
