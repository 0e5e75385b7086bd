/**
 * Metric points are stored in blocks: up to BLOCK_POINTS points of one series as three columns
 * (steps, values, times), each compressed with the codec that suits it (codec.ts; blocks written
 * before that format are three packed little-endian float64 columns and still read as such), with
 * a summary (first/last/min/max, NaN count) kept in columns beside it, so reads can skip or
 * summarise whole blocks.
 */
import type { BlockFormat } from '../../config.js';
import type { MetricBlocksTable } from '../../db/schema.js';
import { decodeBlock, encodeBlock, isCoded } from './codec.js';

export const BLOCK_POINTS = 4096;
/** A trailing block smaller than this is merged with the next append instead of left tiny. */
export const SMALL_BLOCK_POINTS = 512;

export interface Points {
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
  metadata: (string | null)[] | null;
}

/** The summary columns stored beside each block's packed points. */
export type BlockSummary = Omit<MetricBlocksTable, 'series_id' | 'seq' | 'data' | 'metadata' | 'windows' | 'window_sums'>;

/** SQLite stores NaN as NULL; so do we, in summary columns, on both dialects. */
const nanToNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** "First" is the lowest step (earliest on ties), "last" the highest (latest on ties). */
export function summarize(p: Points): BlockSummary {
  const n = p.values.length;
  let firstI = 0;
  let lastI = 0;
  let minI = -1;
  let maxI = -1;
  let nan = 0;
  let stepMin = Infinity;
  let stepMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = p.steps[i]!;
    const v = p.values[i]!;
    if (s < stepMin) {
      stepMin = s;
      firstI = i;
    }
    if (s >= stepMax) {
      stepMax = s;
      lastI = i;
    }
    if (Number.isNaN(v)) {
      nan++;
    } else {
      if (minI < 0 || v < p.values[minI]!) minI = i;
      if (maxI < 0 || v > p.values[maxI]!) maxI = i;
    }
  }
  return {
    step_min: stepMin,
    step_max: stepMax,
    point_count: n,
    first_step: p.steps[firstI]!,
    first_value: nanToNull(p.values[firstI]!),
    last_step: p.steps[lastI]!,
    last_value: nanToNull(p.values[lastI]!),
    min_value: minI < 0 ? null : p.values[minI]!,
    min_step: minI < 0 ? null : p.steps[minI]!,
    max_value: maxI < 0 ? null : p.values[maxI]!,
    max_step: maxI < 0 ? null : p.steps[maxI]!,
    nan_count: nan,
  };
}

/** A block's stored bytes: coded (compressed columns) or packed (three float64 columns, the older layout). */
export function encode(p: Points, format: BlockFormat = 'coded'): Uint8Array {
  if (format === 'coded') return encodeBlock(p);
  const n = p.values.length;
  const packed = new Float64Array(n * 3);
  packed.set(p.steps, 0);
  packed.set(p.values, n);
  packed.set(p.times, 2 * n);
  return new Uint8Array(packed.buffer);
}

export function decode(data: Uint8Array, metadata: string | null): Points {
  let aligned: Float64Array;
  if (isCoded(data)) {
    aligned = decodeBlock(data);
  } else if (data.byteOffset % 8 === 0) {
    // A block written before the coded format: the packed columns themselves.
    aligned = new Float64Array(data.buffer, data.byteOffset, data.byteLength / 8);
  } else {
    // The driver's buffer is not 8-byte aligned: copy.
    aligned = new Float64Array(data.byteLength / 8);
    new Uint8Array(aligned.buffer).set(data);
  }
  const n = aligned.length / 3;
  return {
    steps: aligned.subarray(0, n),
    values: aligned.subarray(n, 2 * n),
    times: aligned.subarray(2 * n, 3 * n),
    metadata: metadata === null ? null : (JSON.parse(metadata) as (string | null)[]),
  };
}

export function slice(p: Points, start: number, end: number): Points {
  return {
    steps: p.steps.subarray(start, end),
    values: p.values.subarray(start, end),
    times: p.times.subarray(start, end),
    metadata: p.metadata ? p.metadata.slice(start, end) : null,
  };
}

/** The points of `parts`, one after another (metadata filled with nulls where a part has none). */
export function concat(...parts: readonly Points[]): Points {
  const n = parts.reduce((sum, p) => sum + p.values.length, 0);
  const out: Points = { steps: new Float64Array(n), values: new Float64Array(n), times: new Float64Array(n), metadata: null };
  let offset = 0;
  for (const p of parts) {
    out.steps.set(p.steps, offset);
    out.values.set(p.values, offset);
    out.times.set(p.times, offset);
    if (p.metadata) {
      out.metadata ??= new Array<string | null>(n).fill(null);
      p.metadata.forEach((m, i) => (out.metadata![offset + i] = m));
    }
    offset += p.values.length;
  }
  return out;
}

export function metadataText(p: Points): string | null {
  return p.metadata && p.metadata.some((m) => m !== null) ? JSON.stringify(p.metadata) : null;
}
