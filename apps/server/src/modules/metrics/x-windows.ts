import type { BlockSummaryRow } from './metrics.repository.js';
import { decodeWindows, W, W_FIELDS, WINDOW_STEPS } from './windows.js';

/**
 * An x metric (`x=metric:tokens`) seen through its stored 64-step window summaries instead of its
 * points: each window's first and last step and x. Where every window's x lies at or above the one
 * before's, bucket edges in x map to window boundaries in steps, so the y metric is read from its
 * own window summaries as on the step axis and neither metric's points are decoded.
 */
export interface XWindows {
  /** Each window's first step (a multiple of WINDOW_STEPS), increasing. */
  start: Float64Array;
  firstStep: Float64Array;
  firstX: Float64Array;
  lastStep: Float64Array;
  lastX: Float64Array;
}

/** A windowed x read needs at least this many windows per bucket: an edge moves by at most one window. */
export const WINDOWS_PER_BUCKET = 8;

/** The smallest and largest non-NaN x, from the blocks' summaries; null when there is none. */
export function xRange(blocks: readonly Pick<BlockSummaryRow, 'min_value' | 'max_value'>[]): { from: number; to: number } | null {
  let from = Infinity;
  let to = -Infinity;
  for (const b of blocks) {
    if (b.min_value !== null && b.min_value < from) from = b.min_value;
    if (b.max_value !== null && b.max_value > to) to = b.max_value;
  }
  return from <= to ? { from, to } : null;
}

/**
 * The x metric's windows in step order, or null where they cannot stand for its points: a block
 * without window summaries (sparse steps), a NaN, a window whose first x is not its smallest or
 * whose last is not its largest, or a window starting below the one before's last x or step.
 */
export function xWindows(blocks: readonly Pick<BlockSummaryRow, 'windows'>[]): XWindows | null {
  const cols: number[][] = [[], [], [], [], []];
  const [start, firstStep, firstX, lastStep, lastX] = cols as [number[], number[], number[], number[], number[]];
  for (const block of blocks) {
    if (block.windows === null) return null;
    const w = decodeWindows(block.windows);
    for (let o = 0; o < w.length; o += W_FIELDS) {
      const s = w[o + W.start]!;
      const fx = w[o + W.firstValue]!;
      const lx = w[o + W.lastValue]!;
      if (w[o + W.nanCount]! > 0 || fx !== w[o + W.minValue] || lx !== w[o + W.maxValue]) return null;
      const n = start.length;
      if (n > 0 && (w[o + W.firstStep]! <= lastStep[n - 1]! || fx < lastX[n - 1]! || s < start[n - 1]!)) return null;
      if (n > 0 && s === start[n - 1]) {
        // One window split between two blocks: its later part extends it.
        lastStep[n - 1] = w[o + W.lastStep]!;
        lastX[n - 1] = lx;
      } else {
        start.push(s);
        firstStep.push(w[o + W.firstStep]!);
        firstX.push(fx);
        lastStep.push(w[o + W.lastStep]!);
        lastX.push(lx);
      }
    }
  }
  const f = (a: number[]) => Float64Array.from(a);
  return { start: f(start), firstStep: f(firstStep), firstX: f(firstX), lastStep: f(lastStep), lastX: f(lastX) };
}

/** The first index in sorted `a` whose value is ≥ v (with `strict`, > v); a.length when none. */
export function lowerBound(a: Float64Array, v: number, strict = false): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < v || (strict && a[mid] === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The windows whose x range meets [from, to]: indices [lo, hi). */
function overlapping(w: XWindows, q: { from: number; to: number }): [number, number] {
  return [lowerBound(w.lastX, q.from), lowerBound(w.firstX, q.to, true)];
}

export function windowsIn(w: XWindows, q: { from: number; to: number }): number {
  const [lo, hi] = overlapping(w, q);
  return Math.max(0, hi - lo);
}

/**
 * Step edges of `budget` equal x buckets over [from, to]: a window belongs to the bucket of its
 * first x (clamped into range), so every edge is a window's first step and each bucket a whole
 * number of windows; edges[budget] ends the last window in range.
 *
 * @example
 *   windowEdges(w, { from: 0, to: 1e6, budget: 1000 }); // Float64Array(1001) of multiples of 64
 */
export function windowEdges(w: XWindows, q: { from: number; to: number; budget: number }): Float64Array {
  const edges = new Float64Array(q.budget + 1);
  const [lo, hi] = overlapping(w, q);
  if (hi <= lo) return edges;
  const width = (q.to - q.from) / q.budget || 1;
  let k = 0;
  for (let i = lo; i < hi; i++) {
    const b = Math.min(q.budget - 1, Math.max(0, Math.floor((w.firstX[i]! - q.from) / width)));
    while (k <= b) edges[k++] = w.start[i]!;
  }
  const end = w.start[hi - 1]! + WINDOW_STEPS;
  while (k <= q.budget) edges[k++] = end;
  return edges;
}

/**
 * The x at a step, from the window holding it: exact at the window's first and last logged steps,
 * linear between them; before a window's first step, the x of the window before (the last x logged).
 */
export function xAtStep(w: XWindows, step: number): number {
  const i = lowerBound(w.firstStep, step, true) - 1;
  if (i < 0) return NaN;
  if (step >= w.lastStep[i]!) return w.lastX[i]!;
  const fs = w.firstStep[i]!;
  return w.firstX[i]! + ((w.lastX[i]! - w.firstX[i]!) * (step - fs)) / (w.lastStep[i]! - fs);
}
