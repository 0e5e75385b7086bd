import { num, type BucketedSeries } from '$lib/api';
import type { Envelope } from './types';

export type { Envelope } from './types';

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function emptyEnvelope(): Envelope {
  return {
    xs: [],
    mins: [],
    maxs: [],
    lines: [],
    pointXs: [],
    points: [],
    pointBuckets: [],
    firstSteps: [],
    lastSteps: [],
    counts: [],
    nanSteps: [],
    posInfSteps: [],
    negInfSteps: [],
    from: 0,
    to: -1,
    bucketWidth: 1,
    pointCount: 0,
  };
}

/**
 * A bucket's first, min, max and last points in x order, each once (M4): the line through them
 * reaches the bucket's extremes where they happened. Non-finite values are markers, not points;
 * a bucket with no finite value is one gap (null) at its middle, so the line breaks there.
 */
function m4(pts: { x: number | null | undefined; v: number }[], mid: number): { x: number; v: number | null }[] {
  const finitePts = pts.filter((p): p is { x: number; v: number } => p.x !== null && p.x !== undefined && Number.isFinite(p.v));
  if (finitePts.length === 0) return [{ x: mid, v: null }];
  // Stable: at one x the bucket's own order (first, min, max, last) is kept.
  finitePts.sort((a, b) => a.x - b.x);
  return finitePts.filter((p, i) => i === 0 || p.x !== finitePts[i - 1]!.x || p.v !== finitePts[i - 1]!.v);
}

/** Turns the server's bucket arrays into plot-ready arrays. */
export function toEnvelope(s: BucketedSeries): Envelope {
  const b = s.buckets;
  const n = b.count.length;
  const e = emptyEnvelope();
  e.from = s.from;
  e.to = s.to;
  e.bucketWidth = s.bucketWidth;
  e.pointCount = s.pointCount;
  for (let i = 0; i < n; i++) {
    const first = num(b.firstValue[i]);
    const last = num(b.lastValue[i]);
    const lo = num(b.minValue[i]);
    const hi = num(b.maxValue[i]);
    e.firstSteps.push(b.firstStep[i]!);
    e.lastSteps.push(b.lastStep[i]!);
    e.xs.push((b.firstStep[i]! + b.lastStep[i]!) / 2);
    e.counts.push(b.count[i]!);
    e.mins.push(finite(lo));
    e.maxs.push(finite(hi));
    const f = finite(first);
    const l = finite(last);
    e.lines.push(f !== null && l !== null ? (f + l) / 2 : (f ?? l ?? finite((lo + hi) / 2)));
    const line = m4(
      [
        { x: b.firstStep[i], v: first },
        { x: b.minStep[i], v: lo },
        { x: b.maxStep[i], v: hi },
        { x: b.lastStep[i], v: last },
      ],
      e.xs[i]!,
    );
    for (const p of line) {
      // Buckets never overlap, but a point must not go back past the previous bucket's last one.
      if (e.pointXs.length > 0 && p.x < e.pointXs[e.pointXs.length - 1]!) continue;
      e.pointXs.push(p.x);
      e.points.push(p.v);
      e.pointBuckets.push(i);
    }
    if (b.nanCount[i]! > 0) e.nanSteps.push(b.firstNanStep[i] ?? b.firstStep[i]!);
    if (hi === Infinity) e.posInfSteps.push(b.maxStep[i] ?? b.firstStep[i]!);
    if (lo === -Infinity) e.negInfSteps.push(b.minStep[i] ?? b.firstStep[i]!);
  }
  return e;
}

/** Appends a later range (live updates) to an envelope; the result covers both. */
export function appendEnvelope(a: Envelope, b: Envelope): Envelope {
  if (a.xs.length === 0) return b;
  return {
    xs: a.xs.concat(b.xs),
    mins: a.mins.concat(b.mins),
    maxs: a.maxs.concat(b.maxs),
    lines: a.lines.concat(b.lines),
    pointXs: a.pointXs.concat(b.pointXs),
    points: a.points.concat(b.points),
    pointBuckets: a.pointBuckets.concat(b.pointBuckets.map((k) => k + a.xs.length)),
    firstSteps: a.firstSteps.concat(b.firstSteps),
    lastSteps: a.lastSteps.concat(b.lastSteps),
    counts: a.counts.concat(b.counts),
    nanSteps: a.nanSteps.concat(b.nanSteps),
    posInfSteps: a.posInfSteps.concat(b.posInfSteps),
    negInfSteps: a.negInfSteps.concat(b.negInfSteps),
    from: a.from,
    to: b.to,
    bucketWidth: a.bucketWidth,
    pointCount: a.pointCount + b.pointCount,
  };
}

/**
 * The bucket an x (step or time) falls in: the one whose first–last range holds it, else the
 * nearest. -1 for an empty envelope.
 */
export function bucketAt(e: Envelope, x: number): number {
  let lo = 0;
  let hi = e.xs.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (e.lastSteps[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && x < e.firstSteps[lo]! && x - e.lastSteps[lo - 1]! < e.firstSteps[lo]! - x) return lo - 1;
  return lo;
}

/**
 * Exponential moving average with TensorBoard's debiasing, skipping gaps. weight 0 = raw.
 * Only the line is smoothed; the envelope keeps showing the true extremes.
 */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null) return null;
    acc = acc * weight + (1 - weight) * v;
    n++;
    return acc / (1 - weight ** n);
  });
}

/** Log scales cannot show values ≤ 0: they become gaps. */
export function forLog(values: (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && v > 0 ? v : null));
}
