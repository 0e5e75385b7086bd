import type { Points } from './blocks.js';

/**
 * Window summaries: for every aligned step window [k·W, (k+1)·W) that a block's points touch,
 * the window's count, first/last/min/max (with steps) and NaN count. Reads whose buckets are
 * whole numbers of windows merge these instead of decoding points, so a 10^6-point series is
 * downsampled from ~10^4 summaries.
 */
export const WINDOW_STEPS = 64;

/** Float64 fields per window, in this order. */
export const W_FIELDS = 12;
export const W = {
  start: 0,
  count: 1,
  firstStep: 2,
  firstValue: 3,
  lastStep: 4,
  lastValue: 5,
  minStep: 6,
  minValue: 7,
  maxStep: 8,
  maxValue: 9,
  nanCount: 10,
  firstNanStep: 11,
} as const;

/**
 * Summaries of the windows a block touches, or null when they would not be much smaller than
 * the points themselves (sparse steps), in which case reads decode that block.
 */
export function summarizeWindows(p: Points): Float64Array | null {
  const n = p.values.length;
  const index = new Map<number, number>();
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s = p.steps[i]!;
    const v = p.values[i]!;
    const k = Math.floor(s / WINDOW_STEPS);
    let slot = index.get(k);
    if (slot === undefined) {
      if (rows.length * 4 > n && rows.length > 8) return null;
      slot = rows.length;
      index.set(k, slot);
      rows.push([k * WINDOW_STEPS, 0, Infinity, NaN, -Infinity, NaN, NaN, NaN, NaN, NaN, 0, NaN]);
    }
    const w = rows[slot]!;
    w[W.count]!++;
    if (s < w[W.firstStep]!) {
      w[W.firstStep] = s;
      w[W.firstValue] = v;
    }
    if (s >= w[W.lastStep]!) {
      w[W.lastStep] = s;
      w[W.lastValue] = v;
    }
    if (Number.isNaN(v)) {
      w[W.nanCount]!++;
      if (!(s >= w[W.firstNanStep]!)) w[W.firstNanStep] = s;
    } else {
      if (Number.isNaN(w[W.minStep]!) || v < w[W.minValue]!) {
        w[W.minValue] = v;
        w[W.minStep] = s;
      }
      if (Number.isNaN(w[W.maxStep]!) || v > w[W.maxValue]!) {
        w[W.maxValue] = v;
        w[W.maxStep] = s;
      }
    }
  }
  const out = new Float64Array(rows.length * W_FIELDS);
  rows.forEach((w, i) => out.set(w, i * W_FIELDS));
  return out;
}

export function encodeWindows(w: Float64Array | null): Uint8Array | null {
  return w === null ? null : new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
}

export function decodeWindows(data: Uint8Array): Float64Array {
  if (data.byteOffset % 8 === 0) return new Float64Array(data.buffer, data.byteOffset, data.byteLength / 8);
  const aligned = new Float64Array(data.byteLength / 8);
  new Uint8Array(aligned.buffer).set(data);
  return aligned;
}

/**
 * The sum of the non-NaN values of each window of `windows` (summarizeWindows of the same points),
 * in the same order: with the window's count and NaN count it gives the window's mean, which band
 * reads (mean across runs) merge like the other figures instead of decoding every point.
 */
export function summarizeWindowSums(p: Points, windows: Float64Array | null): Float64Array | null {
  if (windows === null) return null;
  const slot = new Map<number, number>();
  for (let o = 0, i = 0; o < windows.length; o += W_FIELDS, i++) slot.set(windows[o + W.start]!, i);
  const sums = new Float64Array(slot.size);
  for (let i = 0; i < p.values.length; i++) {
    const v = p.values[i]!;
    if (v === v) sums[slot.get(Math.floor(p.steps[i]! / WINDOW_STEPS) * WINDOW_STEPS)!]! += v;
  }
  return sums;
}
