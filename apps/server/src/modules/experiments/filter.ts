/**
 * The experiments' search grammar (MLflow's, which Tora adopted), parsed once for the dashboard's
 * `filter` parameter and for MLflow's `runs/search` route, which hands its text here: clauses
 * joined by AND, each `<entity>.<key> <comparator> <value>`.
 *
 * @example
 *   parseFilter("metrics.acc > 0.9 and params.lr = '0.1' and tags.`val/loss` LIKE 'x%'")
 *   // → [{ entity: 'metric', key: 'acc', op: '>', value: 0.9 }, …]
 */

import { FILTER_LIMITS } from '../../lib/limits.js';

type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
export type Literal = string | number;

export interface Clause {
  entity: Entity;
  key: string;
  op: Comparator;
  value: Literal | Literal[];
}

/** Which experiments (or workspaces) a search returns: trashed ones only on request. */
export type TrashView = 'live' | 'trashed' | 'all';

export interface OrderKey {
  entity: Entity;
  key: string;
  ascending: boolean;
}

/** A filter or order_by that does not parse; its message says where and why. */
export class FilterError extends Error {}

const ENTITY: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** What a dataset clause may compare: a run's dataset inputs by name, digest or `mlflow.data.context` tag. */
const DATASET_KEYS = new Set(['name', 'digest', 'context']);

/** Attributes a filter may name, with MLflow's aliases. */
const ATTRIBUTES: Record<string, 'run_id' | 'run_name' | 'status' | 'start_time' | 'end_time' | 'user_id' | 'artifact_uri'> = {
  run_id: 'run_id',
  run_uuid: 'run_id',
  run_name: 'run_name',
  status: 'status',
  start_time: 'start_time',
  created: 'start_time',
  end_time: 'end_time',
  user_id: 'user_id',
  artifact_uri: 'artifact_uri',
};
type Attribute = (typeof ATTRIBUTES)[keyof typeof ATTRIBUTES];
const NUMERIC_ATTRIBUTES = new Set<string>(['start_time', 'end_time']);

type Token =
  | { kind: 'ident'; entity: Entity; key: string; at: number }
  | { kind: 'word'; text: string; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'punct'; text: '(' | ')' | ','; at: number };

const KEY_STOP = /[\s=!<>(),'"`]/;
// Sticky: each matches at the cursor without copying the rest of the text (tokenizing stays linear).
const OP = /(<=|>=|!=|<>|==|=|<|>)/y;
const NUMBER = /[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;

function stickyMatch(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(text);
}

function quoted(text: string, start: number, quote: string): { value: string; end: number } {
  let out = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === quote) {
      if (text[i + 1] === quote) {
        out += quote;
        i++;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    if (c === '\\' && i + 1 < text.length && text[i + 1] === quote) {
      out += quote;
      i++;
      continue;
    }
    out += c;
  }
  throw new FilterError(`unterminated ${quote} quote starting at character ${start + 1}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'" || c === '"') {
      const q = quoted(text, i, c);
      tokens.push({ kind: 'string', text: q.value, at });
      i = q.end;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, at });
      i++;
      continue;
    }
    const op = stickyMatch(OP, text, i);
    if (op) {
      const t = op[1]!;
      tokens.push({ kind: 'op', text: t === '<>' ? '!=' : t === '==' ? '=' : t, at });
      i += t.length;
      continue;
    }
    const num = stickyMatch(NUMBER, text, i);
    if (num) {
      tokens.push({ kind: 'number', value: Number(num[0]), at });
      i += num[0].length;
      continue;
    }
    const word = stickyMatch(WORD, text, i);
    if (!word) throw new FilterError(`unexpected character "${c}" at character ${i + 1}`);
    i += word[0].length;
    const entity = ENTITY[word[0].toLowerCase()];
    if (entity !== undefined && text[i] === '.') {
      i++;
      let key: string;
      if (text[i] === '`' || text[i] === '"') {
        const q = quoted(text, i, text[i]!);
        key = q.value;
        i = q.end;
      } else {
        // Unquoted keys may hold dots and slashes (`metrics.val/loss`); they end at a space or operator.
        const start = i;
        while (i < text.length && !KEY_STOP.test(text[i]!)) i++;
        key = text.slice(start, i);
      }
      if (key === '') throw new FilterError(`missing key after "${word[0]}." at character ${at + 1}`);
      tokens.push({ kind: 'ident', entity, key, at });
    } else {
      tokens.push({ kind: 'word', text: word[0], at });
    }
  }
  return tokens;
}

class Cursor {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new FilterError(`expected ${what} at the end of the filter`);
    return t;
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
}

const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === w;

function literal(c: Cursor): Literal {
  const t = c.next('a value');
  if (t.kind === 'string') return t.text;
  if (t.kind === 'number') return t.value;
  throw new FilterError(`expected a quoted string or a number at character ${t.at + 1}`);
}

function comparator(c: Cursor): Comparator {
  const t = c.next('a comparator');
  if (t.kind === 'op') return t.text as Comparator;
  if (t.kind === 'word') {
    const w = t.text.toUpperCase();
    if (w === 'LIKE' || w === 'ILIKE' || w === 'IN') return w;
    if (w === 'NOT' && isWord(c.peek(), 'IN')) {
      c.next('IN');
      return 'NOT IN';
    }
  }
  throw new FilterError(`expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) at character ${t.at + 1}`);
}

function list(c: Cursor): Literal[] {
  const open = c.next('(');
  if (open.kind !== 'punct' || open.text !== '(')
    throw new FilterError(`IN needs a list like ('a', 'b') at character ${open.at + 1}`);
  const out: Literal[] = [literal(c)];
  for (;;) {
    const t = c.next(')');
    if (t.kind === 'punct' && t.text === ')') return out;
    if (t.kind !== 'punct' || t.text !== ',') throw new FilterError(`expected , or ) at character ${t.at + 1}`);
    out.push(literal(c));
  }
}

function identifier(c: Cursor): { entity: Entity; key: string; at: number } {
  const t = c.next('an identifier like metrics.acc');
  if (t.kind === 'ident') {
    if (t.entity === 'attribute') return { entity: 'attribute', key: attributeName(t.key), at: t.at };
    if (t.entity === 'dataset' && !DATASET_KEYS.has(t.key)) {
      throw new FilterError(`unknown dataset field "${t.key}"; datasets are searched by name, digest and context`);
    }
    return t;
  }
  // A bare attribute name (`status = 'FINISHED'`) is accepted as a convenience.
  if (t.kind === 'word' && ATTRIBUTES[t.text.toLowerCase()] !== undefined) {
    return { entity: 'attribute', key: attributeName(t.text), at: t.at };
  }
  throw new FilterError(
    `expected an identifier (metrics.<key>, params.<key>, tags.<key>, attributes.<name> or datasets.<field>) at character ${t.at + 1}`,
  );
}

function attributeName(name: string): Attribute {
  const a = ATTRIBUTES[name.toLowerCase()];
  if (a === undefined) {
    throw new FilterError(`unknown attribute "${name}"; searchable attributes: ${Object.keys(ATTRIBUTES).join(', ')}`);
  }
  return a;
}

function check(clause: Clause, at: number): Clause {
  const { entity, key, op, value } = clause;
  const where = `${entity}s.${key} at character ${at + 1}`;
  const listOp = op === 'IN' || op === 'NOT IN';
  const textOp = op === 'LIKE' || op === 'ILIKE';
  const numeric = entity === 'metric' || (entity === 'attribute' && NUMERIC_ATTRIBUTES.has(key));
  if (numeric) {
    if (textOp || listOp) throw new FilterError(`${where}: ${op} compares text; use =, !=, <, <=, > or >=`);
    if (typeof value !== 'number') throw new FilterError(`${where}: compare with a number, not a string`);
    // Times are integer milliseconds: PostgreSQL refuses a fraction or an out-of-range bigint at run time.
    if (entity === 'attribute' && !Number.isSafeInteger(value)) {
      throw new FilterError(`${where}: compare with a whole number of milliseconds within ±${Number.MAX_SAFE_INTEGER}`);
    }
  } else if (textOp && typeof value !== 'string') {
    throw new FilterError(`${where}: ${op} needs a quoted pattern`);
  } else if (entity === 'tag' || entity === 'dataset' || (entity === 'attribute' && !numeric)) {
    if (!listOp && !textOp && op !== '=' && op !== '!=') {
      throw new FilterError(`${where}: only =, !=, LIKE, ILIKE, IN and NOT IN compare text`);
    }
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v !== 'string')) throw new FilterError(`${where}: compare with a quoted string`);
  }
  return clause;
}

/**
 * Parses a filter string; an empty or blank filter is no clauses. Throws FilterError, also for more
 * than FILTER_LIMITS.clauses clauses (counted as they are read, so a huge filter costs no more).
 */
export function parseFilter(text: string | undefined | null): Clause[] {
  if (!text || text.trim() === '') return [];
  const c = new Cursor(tokenize(text));
  const clauses: Clause[] = [];
  for (;;) {
    const id = identifier(c);
    const op = comparator(c);
    const value = op === 'IN' || op === 'NOT IN' ? list(c) : literal(c);
    clauses.push(check({ entity: id.entity, key: id.key, op, value }, id.at));
    if (clauses.length > FILTER_LIMITS.clauses) {
      throw new FilterError(`a filter may join at most ${FILTER_LIMITS.clauses} clauses with AND`);
    }
    if (c.done()) return clauses;
    const t = c.next('AND');
    if (!isWord(t, 'AND')) {
      throw new FilterError(
        isWord(t, 'OR')
          ? `OR is not supported (MLflow's grammar joins clauses with AND) at character ${t.at + 1}`
          : `expected AND at character ${t.at + 1}`,
      );
    }
  }
}

/** Parses one `order_by` entry: `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`. */
export function parseOrderBy(text: string): OrderKey {
  const c = new Cursor(tokenize(text));
  const id = identifier(c);
  if (id.entity === 'dataset') throw new FilterError(`order_by "${text}": runs cannot be ordered by their datasets`);
  let ascending = true;
  if (!c.done()) {
    const t = c.next('ASC or DESC');
    if (isWord(t, 'DESC')) ascending = false;
    else if (!isWord(t, 'ASC')) throw new FilterError(`order_by "${text}": expected ASC or DESC at character ${t.at + 1}`);
  }
  if (!c.done()) throw new FilterError(`order_by "${text}": unexpected text after the direction`);
  return { entity: id.entity, key: id.key, ascending };
}
