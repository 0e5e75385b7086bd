import { createHash, type Hash } from 'node:crypto';
import { AppError, badRequest } from '../../errors.js';
import { METRIC_LIMITS } from '../../lib/limits.js';
import { fromWire } from '../../lib/numbers.js';
import { badText, findBadText } from '../../lib/validation.js';
import type { Points } from './blocks.js';

/** Published limits of one metrics batch (src/lib/limits.ts; also in the OpenAPI document). */
const LIMITS = METRIC_LIMITS;

/**
 * Points of one series in arrival order, as the blocks hold them: one Float64Array per column.
 * NaN in `steps` or `times` means "not given" (the wire's convention, JSON's null); the ingest
 * fills those places in place at commit (next step of the series, now) and the columns go on
 * into blocks as they are.
 */
export interface SeriesInput extends Points {
  /**
   * Where the batch gave no step (ascending), or null when it gave every step. Kept apart from
   * `steps` because the fill overwrites the NaNs: a retried transaction fills the same places
   * again from the series' last step then, and the fingerprints hash them as "missing".
   */
  missingSteps: Uint32Array | null;
}

export interface ParsedBatch {
  batchId: string | null;
  /** Hash of the batch's content, to tell a retry from a different batch reusing the id. */
  fingerprint: string;
  series: Map<string, SeriesInput>;
  count: number;
}

function fail(path: string, message: string): never {
  throw badRequest(`${path} ${message}`, [{ path, message }]);
}

/**
 * Lengths are counted in Unicode code points — Python's `len()`, and what the JSON Schema
 * `maxLength` of the other routes counts — so the Python client refuses exactly what this refuses.
 */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** A metric name as every door takes it (a 400 naming `path` otherwise): the batch, and metric directions. */
export function checkMetricName(path: string, name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') fail(path, 'must be a non-empty string');
  if (codePoints(name) > LIMITS.maxNameLength) fail(path, `is longer than the limit of ${LIMITS.maxNameLength} characters`);
  if (/[\u0000-\u001f]/.test(name)) fail(path, 'must not contain control characters');
  const bad = badText(name);
  if (bad) fail(path, bad);
  return name;
}

function checkValue(path: string, value: unknown): number {
  const n = fromWire(value);
  if (n === undefined) fail(path, 'must be a number or one of "NaN", "Infinity", "-Infinity"');
  return n;
}

function checkStep(path: string, step: unknown): number | null {
  if (step === null || step === undefined) return null;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < LIMITS.minStep || step > LIMITS.maxStep) {
    fail(path, `must be an integer from ${LIMITS.minStep} to ${LIMITS.maxStep} or null`);
  }
  return step;
}

function checkTime(path: string, time: unknown): number | null {
  if (time === null || time === undefined) return null;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0 || time > LIMITS.maxTime) {
    fail(path, `must be epoch milliseconds from 0 to ${LIMITS.maxTime} or null`);
  }
  return time;
}

/** Whether an object nests deeper than `max` levels, checked without recursion. */
function deeperThan(root: object, max: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

function checkMetadata(path: string, metadata: unknown): string | null {
  if (metadata === null || metadata === undefined) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) fail(path, 'must be an object or null');
  if (deeperThan(metadata, LIMITS.maxMetadataDepth))
    fail(path, `nests deeper than the limit of ${LIMITS.maxMetadataDepth} levels`);
  const bad = findBadText(metadata, path);
  if (bad) fail(bad.path, bad.message);
  const text = JSON.stringify(metadata);
  if (Buffer.byteLength(text) > LIMITS.maxMetadataBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', 413, `${path} is larger than the limit of ${LIMITS.maxMetadataBytes} bytes`, [
      { path, message: 'too large' },
    ]);
  }
  return text;
}

function tooMany(count: number): never {
  throw new AppError(
    'PAYLOAD_TOO_LARGE',
    413,
    `Batch has ${count} points; the limit is ${LIMITS.maxPointsPerBatch} points per batch — split it`,
    { limit: LIMITS.maxPointsPerBatch },
  );
}

function tooManySeries(map: ReadonlyMap<string, SeriesInput>): void {
  if (map.size >= LIMITS.maxSeriesPerBatch) {
    throw new AppError('PAYLOAD_TOO_LARGE', 413, `Batch names more than ${LIMITS.maxSeriesPerBatch} metrics`, {
      limit: LIMITS.maxSeriesPerBatch,
    });
  }
}

/** Positions of the NaN (not given) steps, or null when every step is given. */
function missingPositions(steps: Float64Array, missing: number): Uint32Array | null {
  if (missing === 0) return null;
  const out = new Uint32Array(missing);
  for (let i = 0, j = 0; i < steps.length; i++) if (Number.isNaN(steps[i]!)) out[j++] = i;
  return out;
}

const ROW_KEYS = new Set(['name', 'value', 'step', 'metadata', 'time']);

/** A series of the rows form while it fills: its columns at their final size, and how far they are filled. */
interface RowSeries {
  s: SeriesInput;
  n: number;
  missing: number;
}

function parseRows(rows: unknown[]): Map<string, SeriesInput> {
  if (rows.length > LIMITS.maxPointsPerBatch) tooMany(rows.length);
  // Rows per name, counted first so each column is allocated once at its size. Nothing is checked
  // here: the pass below checks every row in order, so the first bad field is the one reported.
  const sizes = new Map<unknown, number>();
  for (const row of rows) {
    const name = typeof row === 'object' && row !== null ? (row as Record<string, unknown>).name : undefined;
    sizes.set(name, (sizes.get(name) ?? 0) + 1);
  }
  const map = new Map<string, SeriesInput>();
  const filling = new Map<string, RowSeries>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const path = `body.${i}`;
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      fail(path, 'must be an object {name, value, step?, metadata?}');
    const r = row as Record<string, unknown>;
    for (const key in r) if (!ROW_KEYS.has(key)) fail(`${path}.${key}`, 'is not a known field');
    const name = checkMetricName(`${path}.name`, r.name);
    let f = filling.get(name);
    if (!f) {
      tooManySeries(map);
      const size = sizes.get(name)!;
      const s: SeriesInput = {
        steps: new Float64Array(size),
        values: new Float64Array(size),
        times: new Float64Array(size),
        metadata: null,
        missingSteps: null,
      };
      f = { s, n: 0, missing: 0 };
      map.set(name, s);
      filling.set(name, f);
    }
    const { s } = f;
    const j = f.n++;
    s.values[j] = checkValue(`${path}.value`, r.value);
    const step = checkStep(`${path}.step`, r.step);
    if (step === null) f.missing++;
    s.steps[j] = step ?? NaN;
    s.times[j] = checkTime(`${path}.time`, r.time) ?? NaN;
    const meta = checkMetadata(`${path}.metadata`, r.metadata);
    if (meta !== null) (s.metadata ??= new Array<string | null>(s.values.length).fill(null))[j] = meta;
  }
  for (const { s, missing } of filling.values()) s.missingSteps = missingPositions(s.steps, missing);
  return map;
}

const COLUMNAR_KEYS = new Set(['batchId', 'series']);
const SERIES_KEYS = new Set(['steps', 'values', 'times', 'metadata', 'stepsF64', 'valuesF64', 'timesF64']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * Decodes a binary column: base64 of little-endian float64 values. Clients that log millions of
 * points send these instead of JSON numbers, which cost them far more CPU to print than to copy.
 * The decoded bytes become the column itself where they can (a buffer of their own, aligned).
 */
function f64Column(path: string, raw: unknown): Float64Array {
  if (typeof raw !== 'string' || raw.length % 4 !== 0) fail(path, 'must be base64 of little-endian float64 values');
  const bytes = Buffer.from(raw, 'base64');
  // Node's decoder skips what is not base64, so the text is checked: first as its bytes' own
  // encoding (what clients send; ~8× cheaper than the pattern over a large column), else by the pattern.
  if (bytes.toString('base64') !== raw && !BASE64.test(raw)) fail(path, 'must be base64 of little-endian float64 values');
  if (bytes.length % 8 !== 0) fail(path, `decodes to ${bytes.length} bytes, not a whole number of float64 values`);
  // A small Buffer is a slice of Node's shared pool: copied, so the column owns its memory.
  if (LITTLE_ENDIAN && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return new Float64Array(bytes.buffer, 0, bytes.length / 8);
  }
  const out = new Float64Array(bytes.length / 8);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < out.length; i++) out[i] = bytes.readDoubleLE(i * 8);
  return out;
}

/**
 * Sets the quiet bit of every NaN sent as a signalling one. Servers before this one copied values
 * through plain arrays, which quiet them: stored bits and batch fingerprints stay what they were.
 */
function quietNaNs(column: Float64Array): void {
  let words: Uint32Array | null = null;
  for (let i = 0; i < column.length; i++) {
    if (!Number.isNaN(column[i]!)) continue;
    words ??= new Uint32Array(column.buffer, column.byteOffset, column.length * 2);
    words[2 * i + (LITTLE_ENDIAN ? 1 : 0)]! |= 0x0008_0000;
  }
}

/** A column as sent, and the path of the field it came in (for error messages). */
interface WireColumn {
  data: unknown[] | Float64Array;
  path: string;
}

/** One column in its JSON form (`steps`) or its binary form (`stepsF64`), never both. */
function column(col: Record<string, unknown>, path: string, key: 'steps' | 'values' | 'times'): WireColumn | null {
  const json = col[key];
  const binary = col[`${key}F64`];
  const hasJson = json !== undefined && json !== null;
  if (binary !== undefined && binary !== null) {
    if (hasJson) fail(`${path}.${key}F64`, `cannot be sent together with ${key}`);
    return { data: f64Column(`${path}.${key}F64`, binary), path: `${path}.${key}F64` };
  }
  if (!hasJson) return null;
  if (!Array.isArray(json)) fail(`${path}.${key}`, 'must be an array');
  return { data: json as unknown[], path: `${path}.${key}` };
}

/** The column a wire column fills: a binary one is checked and filled in place, a JSON one into a new array. */
const target = (c: WireColumn | null, n: number): Float64Array =>
  c === null ? new Float64Array(n).fill(NaN) : c.data instanceof Float64Array ? c.data : new Float64Array(n);

/** In binary columns NaN stands for a missing step or time (JSON's null). */
const missing = (x: unknown): boolean => x === null || (typeof x === 'number' && Number.isNaN(x));

function parseColumnar(body: Record<string, unknown>): Map<string, SeriesInput> {
  for (const key in body) if (!COLUMNAR_KEYS.has(key)) fail(`body.${key}`, 'is not a known field');
  const series = body.series;
  if (typeof series !== 'object' || series === null || Array.isArray(series))
    fail('body.series', 'must be an object {name: {steps, values, times?}}');
  const map = new Map<string, SeriesInput>();
  let count = 0;
  for (const [name, raw] of Object.entries(series as Record<string, unknown>)) {
    const path = `body.series.${name}`;
    checkMetricName(path, name);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'must be an object {steps, values, times?}');
    const col = raw as Record<string, unknown>;
    for (const key in col) if (!SERIES_KEYS.has(key)) fail(`${path}.${key}`, 'is not a known field');
    const values = column(col, path, 'values');
    if (values === null) fail(`${path}.values`, 'must be an array (or valuesF64)');
    const n = values.data.length;
    count += n;
    if (count > LIMITS.maxPointsPerBatch) tooMany(count);
    const steps = column(col, path, 'steps');
    const times = column(col, path, 'times');
    const metadata = col.metadata;
    if (metadata !== undefined && metadata !== null && (!Array.isArray(metadata) || metadata.length !== n)) {
      fail(`${path}.metadata`, `must be an array as long as values (${n})`);
    }
    for (const c of [steps, times]) if (c !== null && c.data.length !== n) fail(c.path, `must be as long as values (${n})`);
    tooManySeries(map);
    const s: SeriesInput = {
      steps: target(steps, n),
      values: target(values, n),
      times: target(times, n),
      metadata: null,
      missingSteps: null,
    };
    map.set(name, s);
    // One pass over the points, all three columns at each index: the first bad field is reported.
    let missingSteps = steps === null ? n : 0;
    for (let i = 0; i < n; i++) {
      if (values.data !== s.values) {
        const v = values.data[i];
        s.values[i] = typeof v === 'number' ? v : checkValue(`${values.path}.${i}`, v);
      }
      if (steps !== null) {
        const st = steps.data[i];
        if (missing(st)) {
          s.steps[i] = NaN;
          missingSteps++;
        } else s.steps[i] = checkStep(`${steps.path}.${i}`, st)!;
      }
      if (times !== null) {
        const t = times.data[i];
        s.times[i] = missing(t) ? NaN : checkTime(`${times.path}.${i}`, t)!;
      }
    }
    if (values.data === s.values) quietNaNs(s.values);
    s.missingSteps = missingPositions(s.steps, missingSteps);
    if (Array.isArray(metadata)) s.metadata = metadata.map((m, i) => checkMetadata(`${path}.metadata.${i}`, m));
  }
  return map;
}

/** Validates a batch body in either wire form. Throws a 400/413 AppError naming the first bad field. */
export function parseBatch(body: unknown, headerBatchId: string | undefined): ParsedBatch {
  let series: Map<string, SeriesInput>;
  let batchId: unknown = headerBatchId;
  let batchIdPath = 'headers.idempotency-key';
  if (Array.isArray(body)) {
    series = parseRows(body);
  } else if (typeof body === 'object' && body !== null) {
    const obj = body as Record<string, unknown>;
    series = parseColumnar(obj);
    if (obj.batchId !== undefined && obj.batchId !== null) {
      batchId = obj.batchId;
      batchIdPath = 'body.batchId';
    }
  } else {
    fail('body', 'must be a list of points or {batchId?, series}');
  }
  if (batchId !== undefined && batchId !== null) {
    if (typeof batchId !== 'string' || batchId.length === 0 || batchId.length > LIMITS.maxBatchIdLength) {
      fail(batchIdPath, `must be a string of 1 to ${LIMITS.maxBatchIdLength} characters`);
    }
    const bad = badText(batchId);
    if (bad) fail(batchIdPath, bad);
  }
  let count = 0;
  for (const s of series.values()) count += s.values.length;
  return { batchId: (batchId as string | undefined) ?? null, fingerprint: fingerprint(series), series, count };
}

const FINGERPRINT_V2 = 'v2:';

/**
 * A time to the whole millisecond, halves to even: JSON clients send times rounded so (Python's
 * `round`), binary columns send them exact, and a retry may switch forms (the Python client
 * speaks JSON until it has reached the server once) — it is still the same batch.
 */
function wholeMs(t: number): number {
  const r = Math.round(t);
  return t - Math.floor(t) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const bytesOf = (a: Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The steps as hashed: a missing one as -1, whether or not the ingest has filled it yet. */
function stepBytes(s: SeriesInput): Uint8Array {
  if (s.missingSteps === null) return bytesOf(s.steps);
  const out = s.steps.slice();
  for (const i of s.missingSteps) out[i] = -1;
  return bytesOf(out);
}

/**
 * Where steps were missing, when the series also gives a negative step: a given -1 and a missing
 * step hash alike in `stepBytes`, so the places tell them apart. Empty otherwise, which keeps the
 * fingerprints of batches stored before negative steps were allowed.
 */
function missingPlaces(s: SeriesInput): Uint8Array {
  const missing = s.missingSteps;
  if (missing === null) return new Uint8Array(0);
  let j = 0;
  for (let i = 0; i < s.steps.length; i++) {
    if (missing[j] === i) j++;
    else if (s.steps[i]! < 0) return new Uint8Array(missing.buffer, missing.byteOffset, missing.byteLength);
  }
  return new Uint8Array(0);
}

/** The times as hashed: to the whole millisecond, a missing one as -1; the column itself when it is already so. */
function timeBytes(times: Float64Array): Uint8Array {
  let i = 0;
  while (i < times.length && Number.isInteger(times[i]!)) i++;
  if (i === times.length) return bytesOf(times);
  const out = times.slice();
  for (; i < out.length; i++) out[i] = Number.isNaN(out[i]!) ? -1 : wholeMs(out[i]!);
  return bytesOf(out);
}

/** Name, steps and values of one series: what both fingerprint versions hash first. */
function hashPoints(hash: Hash, name: string, s: SeriesInput): Hash {
  return hash.update(name).update('\u0000').update(stepBytes(s)).update(missingPlaces(s)).update(bytesOf(s.values));
}

/**
 * Hash of everything a batch says: names, steps, values, times (to the millisecond) and metadata
 * as sent (a missing step or time hashes as "missing", not as what the server fills in), so a
 * retry matches and a different batch under the same id does not. Hashes the columns' own bytes
 * where they need no rewriting (the common case: every step given, times in whole milliseconds).
 * Taken at parse, before the ingest fills missing times with "now".
 */
export function fingerprint(series: ReadonlyMap<string, SeriesInput>): string {
  const hash = createHash('sha256');
  for (const [name, s] of series) {
    hashPoints(hash, name, s).update(timeBytes(s.times));
    hash.update(s.metadata?.some((m) => m !== null) ? JSON.stringify(s.metadata) : 'null');
  }
  return FINGERPRINT_V2 + hash.digest('base64url');
}

/** The fingerprint batches committed before v2 were stored with: names, steps and values only. */
export function legacyFingerprint(series: ReadonlyMap<string, SeriesInput>): string {
  const hash = createHash('sha256');
  for (const [name, s] of series) hashPoints(hash, name, s);
  return hash.digest('base64url');
}

/** Whether a stored fingerprint (either version) is this batch's. */
export function sameContent(stored: string, batch: ParsedBatch): boolean {
  return stored.startsWith(FINGERPRINT_V2) ? stored === batch.fingerprint : stored === legacyFingerprint(batch.series);
}
