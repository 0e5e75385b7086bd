import type { FastifyInstance, FastifyRequest } from 'fastify';
import { METRIC_LIMITS, MLFLOW_LIMITS } from '../../lib/limits.js';
import { invalidParameter, invalidValue, JsonLiteral } from './mlflow.errors.js';

/**
 * Reading MLflow requests. MLflow clients send JSON bodies (POST) or query strings (GET), int64
 * fields as numbers or numeric strings, and fields newer than this server; unknown fields are
 * ignored (MLflow's server does the same), and every field read is checked here, with MLflow's
 * INVALID_PARAMETER_VALUE naming the field.
 */

// Re-exported for this module's readers; the limits themselves live with every other one.
export { MLFLOW_LIMITS };

export type Fields = Record<string, unknown>;

/** Marks fields read from a query string, where a repeated name gives a list. */
const FROM_QUERY = Symbol('query string');

/**
 * The fields of a request: its query string (GET) or JSON body. No body is an empty one; a body
 * that is not a JSON object (`null`, a list) is refused.
 */
export function fieldsOf(raw: unknown, from: 'query' | 'body' = 'body'): Fields {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter('The request body must be a JSON object');
  }
  if (from === 'body') return raw as Fields;
  return Object.defineProperty({ ...(raw as Fields) }, FROM_QUERY, { value: true });
}

/** One field's value: in a query string, a name given twice counts once (its first value). */
function single(f: Fields, name: string): unknown {
  const v = f[name];
  return Array.isArray(v) && (f as { [FROM_QUERY]?: boolean })[FROM_QUERY] === true ? (v as unknown[])[0] : v;
}

/** The JSON text of each MLflow request body, by its parsed object: to quote a number back as written. */
const JSON_TEXT = new WeakMap<object, string>();

/**
 * Parses JSON bodies as Fastify does (same errors, same prototype-poisoning refusal) and remembers
 * each body's text, so a refusal quotes `9.0` where the client sent `9.0` (MLflow's messages do;
 * JavaScript's parser reads it as `9`). For the routes of the plugin it is called in.
 */
export function keepJsonText(app: FastifyInstance): void {
  // Fastify's default parser answers through its callback (the parser type also allows a promise).
  const parse = app.getDefaultJsonParser('error', 'error') as (
    request: FastifyRequest,
    body: string,
    done: (err: Error | null, value?: unknown) => void,
  ) => void;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (err, value) => {
      if (!err && typeof value === 'object' && value !== null) JSON_TEXT.set(value, body as string);
      done(err, value);
    });
  });
}

/** A top-level number as the body wrote it (`9.0`), where its text says so; else the value itself. */
function asWritten(f: Fields, name: string, v: unknown): unknown {
  const text = JSON_TEXT.get(f);
  if (typeof v !== 'number' || text === undefined) return v;
  const m = new RegExp(`"${name}"\\s*:\\s*(-?[0-9][0-9.eE+-]*)`).exec(text);
  return m && Number(m[1]) === v ? new JsonLiteral(m[1]!) : v;
}

export function missing(name: string): never {
  throw invalidParameter(
    `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
  );
}

export function optString(f: Fields, name: string, max = 100_000): string | undefined {
  const v = single(f, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidValue(asWritten(f, name, v), name, 'must be a string');
  if (v.length > max) throw invalidParameter(`Parameter '${name}' is longer than the limit of ${max} characters`);
  return v;
}

export function string(f: Fields, name: string, max?: number): string {
  const v = optString(f, name, max);
  if (v === undefined || v === '') missing(name);
  return v;
}

/** The run id of a request: `run_id`, or the older `run_uuid`. */
export function runId(f: Fields): string {
  const v = optString(f, 'run_id', MLFLOW_LIMITS.idLength) || optString(f, 'run_uuid', MLFLOW_LIMITS.idLength);
  if (!v) missing('run_id');
  return v;
}

export function optInt(f: Fields, name: string): number | undefined {
  const v = single(f, name);
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw invalidValue(asWritten(f, name, v), name, 'must be an integer');
  }
  return n;
}

/**
 * An epoch-milliseconds time Tora can show: 0 to the last instant a date holds (+275760-09-13), the
 * range of Tora's own metric times. Beyond it the dashboard could not render the run.
 */
export function checkEpochMs(name: string, ms: number | undefined): number | undefined {
  if (ms !== undefined && (ms < 0 || ms > METRIC_LIMITS.maxTime)) {
    throw invalidParameter(
      `Invalid value ${ms} for parameter '${name}': must be epoch milliseconds from 0 to ${METRIC_LIMITS.maxTime}`,
    );
  }
  return ms;
}

export function optStrings(f: Fields, name: string): string[] {
  const v = f[name];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? (v as unknown[]) : [v];
  return list.map((x) => {
    if (typeof x !== 'string') throw invalidParameter(`Invalid value for parameter '${name}': must be a list of strings`);
    return x;
  });
}

export interface KeyValue {
  key: string;
  value: string;
}

/**
 * A key as MLflow names metrics, params and tags: non-empty, within the key length. `path` is
 * the parameter a missing or mistyped key is reported as (`metrics[0].key`), as MLflow names it.
 */
export function checkKey(kind: string, key: unknown, path = 'key'): string {
  if (key === undefined || key === null) missing(path);
  if (typeof key !== 'string') throw invalidValue(key, path, 'must be a string');
  if (key === '') throw invalidParameter(`Invalid ${kind} name: ''. Names must be non-empty strings.`);
  if (key.length > MLFLOW_LIMITS.keyLength) {
    throw invalidParameter(
      `${kind} name '${key.slice(0, 50)}…' had length ${key.length}, which exceeded length limit of ${MLFLOW_LIMITS.keyLength}`,
    );
  }
  if (/[\u0000-\u001f]/.test(key))
    throw invalidParameter(`Invalid ${kind} name: '${key}'. Names must not contain control characters.`);
  return key;
}

/** `[{key, value}]` of params or tags, with MLflow's value length limit. */
export function keyValues(f: Fields, name: string, kind: 'Param' | 'Tag', maxValue: number): KeyValue[] {
  const v = f[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw invalidValue(v, name, 'must be a list of {key, value}');
  }
  return v.map((item: unknown, i) => keyValue(item, kind, maxValue, `${name}[${i}]`));
}

/** One `{key, value}`; `at` is where it sits in the request (`params[2]`), '' for the request's own fields. */
export function keyValue(item: unknown, kind: 'Param' | 'Tag', maxValue: number, at = ''): KeyValue {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(item)} for parameter '${at || kind.toLowerCase()}': must be an object {key, value}`,
    );
  }
  const { key, value } = item as Fields;
  checkKey(kind, key, at === '' ? 'key' : `${at}.key`);
  const text = value === undefined || value === null ? '' : value;
  if (typeof text !== 'string') {
    const field = at === '' ? 'value' : `${at}.value`;
    throw invalidValue(text, field, 'must be a string');
  }
  if (text.length > maxValue) {
    throw invalidParameter(
      `${kind} value '${text.slice(0, 50)}…' had length ${text.length}, which exceeded length limit of ${maxValue}`,
    );
  }
  return { key: key as string, value: text };
}

/**
 * An answer its service has already written as JSON, a chunk at a time between which other
 * requests ran (runs/search of 50,000 runs): the route sends it as it is, where serializing it in
 * one go would hold the event loop for as long.
 */
export class JsonText {
  constructor(readonly text: string) {}
}
