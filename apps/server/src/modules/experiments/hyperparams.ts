import { badRequest } from '../../errors.js';
import { EXPERIMENT_LIMITS } from '../../lib/limits.js';
import { refuseBadText } from '../../lib/validation.js';

type HyperparamValue = string | number | boolean | null;
export interface Hyperparam {
  key: string;
  value: HyperparamValue;
}

const {
  hyperparams: MAX_HYPERPARAMS,
  hyperparamKeyLength: MAX_KEY,
  hyperparamValueLength: MAX_VALUE,
  hyperparamDepth: MAX_DEPTH,
} = EXPERIMENT_LIMITS;

function checkValue(path: string, value: unknown): HyperparamValue {
  if (value === null || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return checkValue(path, listAsJson(path, value));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badRequest(`${path} must be a finite number`, [{ path, message: 'must be finite' }]);
    return value;
  }
  if (typeof value === 'string') {
    if (value.length > MAX_VALUE)
      throw badRequest(`${path} is longer than ${MAX_VALUE} characters`, [{ path, message: 'too long' }]);
    // A JSON-string form gets here without the request guard having seen its text.
    refuseBadText(value, path);
    return value;
  }
  throw badRequest(`${path} must be a string, number, boolean, list or object`, [
    { path, message: 'must be a string, number, boolean, list or object' },
  ]);
}

/** A list is kept whole, as its JSON text (`[64, 128]`): one column, comparable as a string. */
function listAsJson(path: string, list: unknown[]): string {
  let text: string;
  try {
    text = JSON.stringify(list, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('not finite');
      return v;
    });
  } catch {
    throw badRequest(`${path} must hold only finite numbers, strings, booleans, lists and objects`, [
      { path, message: 'not JSON' },
    ]);
  }
  return text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Nested objects become dotted keys (`{opt: {lr: 0.1}}` → `opt.lr = 0.1`), so they sort, filter and
 * compare like any other hyperparameter; an empty object is kept as `{}`.
 */
function flatten(byKey: Map<string, HyperparamValue>, key: string, value: unknown, path: string, depth: number): void {
  if (!isObject(value)) {
    byKey.set(checkKey(path, key), checkValue(path, value));
    return;
  }
  if (depth > MAX_DEPTH) {
    throw badRequest(`${path} nests deeper than ${MAX_DEPTH} levels`, [{ path, message: 'too deep' }]);
  }
  const entries = Object.entries(value);
  if (entries.length === 0) byKey.set(checkKey(path, key), '{}');
  for (const [k, v] of entries) flatten(byKey, `${key}.${k}`, v, `${path}.${k}`, depth + 1);
}

function checkKey(path: string, key: unknown): string {
  if (typeof key === 'number') key = String(key);
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) {
    throw badRequest(`${path} must be a non-empty string of at most ${MAX_KEY} characters`, [{ path, message: 'invalid key' }]);
  }
  refuseBadText(key, path);
  return key;
}

/**
 * Accepts hyperparameters in any of the wire forms clients send — the original `[{key, value}]`
 * list, a plain object, or either as a JSON string — and returns the flat list form: nested objects
 * as dotted keys, lists as their JSON text, keys unique (a later duplicate wins, as in a dict).
 */
export function normalizeHyperparams(input: unknown, path = 'body.hyperparams'): Hyperparam[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') {
    let value: unknown;
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      throw badRequest(`${path} is a string but not valid JSON`, [{ path, message: 'invalid JSON string' }]);
    }
    if (typeof value === 'string')
      throw badRequest(`${path} must be a list or an object`, [{ path, message: 'must be a list or an object' }]);
    return normalizeHyperparams(value, path);
  }
  return fromStructured(input, path);
}

function fromStructured(value: unknown, path: string): Hyperparam[] {
  const byKey = new Map<string, HyperparamValue>();
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) => {
      const itemPath = `${path}.${i}`;
      if (typeof item !== 'object' || item === null || Array.isArray(item) || !('key' in item)) {
        throw badRequest(`${itemPath} must be an object {key, value}`, [{ path: itemPath, message: 'must be {key, value}' }]);
      }
      const { key, value: v } = item as { key: unknown; value?: unknown };
      flatten(byKey, checkKey(`${itemPath}.key`, key), v ?? null, `${itemPath}.value`, 1);
    });
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(byKey, k, v, `${path}.${k}`, 1);
  } else {
    throw badRequest(`${path} must be a list of {key, value}, an object, or a JSON string`, [{ path, message: 'wrong type' }]);
  }
  if (byKey.size > MAX_HYPERPARAMS)
    throw badRequest(`${path} has more than ${MAX_HYPERPARAMS} entries`, [{ path, message: 'too many' }]);
  return [...byKey].map(([key, v]) => ({ key, value: v }));
}
