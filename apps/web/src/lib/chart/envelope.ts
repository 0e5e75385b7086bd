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
