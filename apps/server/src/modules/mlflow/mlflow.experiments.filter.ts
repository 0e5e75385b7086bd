import { FilterError } from '../experiments/filter.js';
import { likeMatch } from './mlflow.like.js';

/** What an experiment filter reads of an experiment. */
export interface FilterableExperiment {
  experiment_id: string;
  name: string;
  creation_time: number;
  last_update_time: number;
  tags: readonly { key: string; value: string }[];
}

const QUOTED = String.raw`'(?:[^']|'')*'|"(?:[^"]|"")*"`;
const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const CLAUSE = new RegExp(
  String.raw`^(?:(attributes?|tags?)\.)?(` +
    '`[^`]+`' +
    String.raw`|"[^"]+"|[\w.]+)\s*(?:(=|!=|<>|<=|>=|<|>|ilike|like)\s*(${QUOTED}|${NUMBER})|is\s+(not\s+)?null|(not\s+in|in)\s*\(\s*((?:${QUOTED})(?:\s*,\s*(?:${QUOTED}))*)\s*\))\s*(?:and\s+(?=\S)|$)`,
  'is',
);

const STRING_ATTRIBUTES = new Set(['name', 'experiment_id']);
const NUMERIC_ATTRIBUTES = new Set(['creation_time', 'last_update_time']);

function unquote(text: string): string {
  const q = text[0]!;
  return text.slice(1, -1).replaceAll(q + q, q);
}

function compareText(op: string, pattern: string, value: string): boolean {
  if (op === '=') return value === pattern;
  if (op === '!=' || op === '<>') return value !== pattern;
  if (op === 'LIKE' || op === 'ILIKE') return likeMatch(pattern, value, op === 'ILIKE');
  throw new FilterError(`Invalid comparator '${op}' for a string: use =, !=, LIKE or ILIKE`);
}

function compareNumber(op: string, bound: number, value: number): boolean {
  switch (op) {
    case '=':
      return value === bound;
    case '!=':
    case '<>':
      return value !== bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    default:
      throw new FilterError(`Invalid comparator '${op}' for a time: use =, !=, <, <=, > or >=`);
  }
}

/**
 * MLflow's experiment filter: clauses joined by AND, each on an attribute (`name`,
 * `experiment_id`, `creation_time`, `last_update_time`, optionally `attribute.`-prefixed) or a
 * tag (`tags.<key>` or `tag.<key>`, the key in backticks when it has spaces), with MLflow's
 * comparators: `=`, `!=`, `LIKE`, `ILIKE` on strings, `IN`/`NOT IN` on experiment_id, `<`…`>=` on
 * times, and `IS NULL`/`IS NOT NULL` on tags.
 *
 * @example experimentMatcher("tag.team = 'vision' AND creation_time > 0")
 */
export function experimentMatcher(filter: string | undefined): (e: FilterableExperiment) => boolean {
  const tests: ((e: FilterableExperiment) => boolean)[] = [];
  let rest = (filter ?? '').trim();
  while (rest !== '') {
    const m = CLAUSE.exec(rest);
    if (!m) throw new FilterError(`Invalid experiment filter clause: ${rest}`);
    const [whole, entity, rawKey = '', rawOp, rawValue, isNot, listOp, list] = m;
    const key = /^[`"]/.test(rawKey) ? rawKey.slice(1, -1) : rawKey;
    const isTag = entity !== undefined && entity.toLowerCase().startsWith('tag');
    const op = rawOp?.toUpperCase();
    if (isTag) {
      const pick = (e: FilterableExperiment) => e.tags.find((t) => t.key === key)?.value;
      if (listOp !== undefined) throw new FilterError(`IN is not supported for tag '${key}'`);
      if (op === undefined) {
        tests.push((e) => (pick(e) === undefined) === (isNot === undefined));
      } else {
        if (!rawValue!.match(/^['"]/)) throw new FilterError(`The value of tag '${key}' must be a quoted string`);
        const value = unquote(rawValue!);
        compareText(op, value, ''); // checks the comparator now, not on the first experiment
        tests.push((e) => {
          const v = pick(e);
          return v !== undefined && compareText(op, value, v);
        });
      }
    } else if (NUMERIC_ATTRIBUTES.has(key)) {
      if (op === undefined || /^['"]/.test(rawValue!)) {
        throw new FilterError(`Attribute '${key}' is compared to a number with =, !=, <, <=, > or >=`);
      }
      const bound = Number(rawValue);
      compareNumber(op, bound, 0);
      tests.push((e) => compareNumber(op, bound, e[key as 'creation_time' | 'last_update_time']));
    } else if (STRING_ATTRIBUTES.has(key)) {
      const pick = (e: FilterableExperiment) => (key === 'name' ? e.name : e.experiment_id);
      if (listOp !== undefined) {
        if (key !== 'experiment_id') throw new FilterError(`IN is supported only for experiment_id, not '${key}'`);
        const values = new Set([...list!.matchAll(new RegExp(QUOTED, 'g'))].map((v) => unquote(v[0])));
        const negate = /^not/i.test(listOp);
        tests.push((e) => values.has(pick(e)) !== negate);
      } else if (op === undefined || !/^['"]/.test(rawValue!)) {
        throw new FilterError(`Attribute '${key}' is compared to a quoted string`);
      } else {
        const value = unquote(rawValue!);
        compareText(op, value, '');
        tests.push((e) => compareText(op, value, pick(e)));
      }
    } else {
      throw new FilterError(
        `Invalid attribute key '${key}' specified. Valid keys are name, experiment_id, creation_time, last_update_time, or tags.<key>`,
      );
    }
    rest = rest.slice(whole.length).trim();
  }
  return (e) => tests.every((t) => t(e));
}
