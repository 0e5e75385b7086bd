import type { Curve, Finding } from './analyzer.types.js';
import { mad, median, rollingMedian } from './analyzer.stats.js';

/** Four significant digits, for messages. */
export const fmt = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v));

/** +1 when lower is better, −1 when higher is: `sign · (a − b) > 0` means a is worse than b. */
const signOf = (c: Curve): number => (c.direction === 'max' ? -1 : 1);

/** Indices of the finite points before the first NaN/Inf: the part of the run trend detectors trust. */
export function finitePrefix(c: Curve): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.values.length; i++) {
    if (c.badStep[i] !== null) break;
    if (Number.isFinite(c.values[i])) out.push(i);
  }
  return out;
}

/**
 * NaN/Inf onset: the first step where the metric stopped being a finite number, how many
 * separate non-finite stretches followed, and whether the run ended that way.
 */
export function detectNonFinite(c: Curve): Finding[] {
  const i = c.badStep.findIndex((s) => s !== null);
  if (i < 0) return [];
  const onset = c.badStep[i]!;
  const lastIndex = c.steps.length - 1;
  const last = c.steps[lastIndex]!;
  // A stretch is a run of consecutive non-finite buckets: one NaN tail is one stretch, however long.
  let stretches = 0;
  for (let k = i; k <= lastIndex; k++) if (c.badStep[k] !== null && (k === i || c.badStep[k - 1] === null)) stretches++;
  let j = i;
  while (j < lastIndex && c.badStep[j + 1] !== null) j++;
  const later = stretches - 1;
  const again = later > 0 ? ` and again in ${later} later stretch${later > 1 ? 'es' : ''}` : '';
  // The last bucket's last value: NaN/Inf there means the run never came back.
  const ended = !Number.isFinite(c.values[lastIndex]);
  // Where the first stretch ends: its last non-finite step, not the end of the bucket holding it.
  const end = Math.max(onset, c.badLastStep?.[j] ?? c.steps[j]!);
  const where = end === onset ? `at step ${onset}` : `at steps ${onset}–${end}`;
  return [
    {
      kind: 'nan_inf',
      severity: 'critical',
      metric: c.name,
      steps: ended ? [onset, Math.max(onset, last)] : [onset, end],
      message: ended
        ? `${c.name} became NaN/Inf at step ${onset}${again} and was still NaN/Inf at the last step (${last}): the run diverged numerically (lower the learning rate, clip gradients, check for log(0) or division by zero).`
        : `${c.name} was NaN/Inf ${where}${again}, then finite again: numerical instability (lower the learning rate, clip gradients, check for log(0) or division by zero).`,
    },
  ];
}

/** Best finite point (by direction); ties go to the earliest. */
export function bestPoint(c: Curve): { index: number; step: number; value: number } | null {
  if (c.direction === null) return null;
  const sign = signOf(c);
  let best = -1;
  for (let i = 0; i < c.values.length; i++) {
    const v = sign > 0 ? c.lo[i]! : c.hi[i]!;
    if (!Number.isFinite(v)) continue;
    const cur = best < 0 ? NaN : sign > 0 ? c.lo[best]! : c.hi[best]!;
    if (best < 0 || sign * (v - cur) < 0) best = i;
  }
  if (best < 0) return null;
  return sign > 0
    ? { index: best, step: c.loStep[best]!, value: c.lo[best]! }
    : { index: best, step: c.hiStep[best]!, value: c.hi[best]! };
}

/** Half-width of the rolling median that trend detectors judge a curve of `n` points by. */
export const smoothing = (n: number): number => Math.max(2, Math.min(20, Math.floor(n / 100)));

/**
 * The metric ends worse than it started after reaching its best, and stays there. Judged on the
 * rolling median, and the end must be worse than the start beyond noise: on a flat noisy curve the
 * best single point is a lucky dip and the last one is anywhere, which is no divergence.
 */
export function detectDivergence(c: Curve): Finding[] {
  if (c.direction === null) return [];
  const idx = finitePrefix(c);
  const n = idx.length;
  if (n < 10) return [];
  const sign = signOf(c);
  const vals = idx.map((i) => c.values[i]!);
  const smooth = rollingMedian(vals, smoothing(n));
  let b = 0;
  for (let i = 1; i < n; i++) if (sign * (smooth[i]! - smooth[b]!) < 0) b = i;
  if (n - 1 - b < Math.max(3, 0.05 * n)) return [];
  const best = smooth[b]!;
  const worsening = sign * (smooth[n - 1]! - best);
  const scale = Math.max(Math.abs(smooth[0]! - best), 0.05 * Math.abs(best), 1e-12);
  if (worsening <= scale) return [];
  const m = Math.max(3, Math.floor(0.05 * n));
  const [start, end] = [median(vals.slice(0, m)), median(vals.slice(n - m))];
  const noise = mad(vals.map((v, k) => v - smooth[k]!));
  // Four standard errors of a difference of medians: a critical finding must not be a coin toss.
  if (sign * (end - start) <= 4 * 1.25 * noise * Math.sqrt(2 / m)) return [];
  // Onset: from where the metric stays clearly (a tenth of its earlier gain) above its best.
  const threshold = best + sign * 0.1 * scale;
  let onset = n - 1;
  while (onset - 1 > b && sign * (smooth[onset - 1]! - threshold) > 0) onset--;
  const from = c.steps[idx[onset]!]!;
  const to = c.steps[idx[n - 1]!]!;
  return [
    {
      kind: 'divergence',
      severity: 'critical',
      metric: c.name,
      steps: [from, to],
      message: `${c.name} diverged from step ${from}: best about ${fmt(best)} around step ${c.steps[idx[b]!]}, ${fmt(vals[n - 1]!)} at step ${to}; it ends worse than it started (median ${fmt(end)} vs ${fmt(start)} over ${m} values at each end).`,
    },
  ];
}

const SPIKE_WINDOW = 10;
const SPIKE_Z = 10;
const SPREAD_WINDOW = 50;

/**
 * Single-bucket excursions in the bad direction, by robust z-score against the rolling median
 * (the point itself included: one point moves a median of 21 by one rank at most).
 * A spike also stands out from what came before it: the first point has no before (a run starts
 * high), and a point on a steep early descent is below its predecessors, not a spike.
 */
export function detectSpikes(c: Curve): Finding[] {
  if (c.direction === null) return [];
  const idx = finitePrefix(c);
  const n = idx.length;
  if (n < 2 * SPIKE_WINDOW) return [];
  const sign = signOf(c);
  // Like with like: a bucket's worst point against its neighbours' worst points (the worst of many
  // noisy points sits well above their typical value, so against last values noise looks like spikes).
  const vals = idx.map((i) => (sign > 0 ? c.hi[i]! : c.lo[i]!));
  // The spread from a wider window (a MAD of 20 points is low by half often enough, over 2000
  // buckets, to pass noise), computed once per block of SPREAD_WINDOW buckets to stay cheap.
  const spreads = new Map<number, number>();
  const spreadAt = (k: number): number => {
    const block = Math.floor(k / SPREAD_WINDOW);
    let v = spreads.get(block);
    if (v === undefined) {
      const center = block * SPREAD_WINDOW + (SPREAD_WINDOW >> 1);
      v = mad(vals.slice(Math.max(0, center - SPREAD_WINDOW), center + SPREAD_WINDOW + 1));
      spreads.set(block, v);
    }
    return v;
  };
  // The rolling median (one sorted window for the whole curve: a sort per point was the analyzer's hot spot).
  const rolling = rollingMedian(vals, SPIKE_WINDOW);
  const hits: { at: number; step: number; peak: number; z: number; m: number }[] = [];
  for (let k = 1; k < n; k++) {
    const peak = vals[k]!;
    const m = rolling[k]!;
    const s = Math.max(spreadAt(k), 1e-9 * Math.abs(m), 1e-12);
    const excess = sign * (peak - m);
    const z = excess / s;
    if (!(z > SPIKE_Z && excess > 0.05 * Math.abs(m))) continue;
    const before = median(vals.slice(Math.max(0, k - SPIKE_WINDOW), k));
    const aboveBefore = sign * (peak - before);
    if (aboveBefore / s > SPIKE_Z && aboveBefore > 0.05 * Math.abs(before)) {
      hits.push({ at: k, step: sign > 0 ? c.hiStep[idx[k]!]! : c.loStep[idx[k]!]!, peak, z, m });
    }
  }
  const groups: (typeof hits)[] = [];
  for (const h of hits) {
    const g = groups[groups.length - 1];
    if (g && h.at - g[g.length - 1]!.at <= 2) g.push(h);
    else groups.push([h]);
  }
  return groups
    .map((g) => ({ g, z: Math.max(...g.map((h) => h.z)) }))
    .sort((a, b) => b.z - a.z)
    .slice(0, 5)
    .map(({ g }) => {
      const top = g.reduce((a, h) => (sign * (h.peak - a.peak) > 0 ? h : a));
      const steps: [number, number] = [Math.min(...g.map((h) => h.step)), Math.max(...g.map((h) => h.step))];
      return {
        kind: 'spike' as const,
        severity: 'warning' as const,
        metric: c.name,
        steps,
        message: `${c.name} spiked to ${fmt(top.peak)} at step ${top.step} against about ${fmt(top.m)} around it (bad batch, data issue or learning-rate spike).`,
      };
    })
    .sort((a, b) => a.steps[0] - b.steps[0]);
}

interface FlatStretch {
  /** First and last step of the stretch. */
  steps: [number, number];
  /** Median of the points in its first and second half (checked to be one level). */
  level: [number, number];
  /** The run's first point. */
  first: { step: number; value: number };
  /** Median of the points after the stretch (checked to be clearly better); null for a tail. */
  after: number | null;
  /** The stretch is far better than the start: the run had learned before it flattened. */
  learned: boolean;
  /** The stretch runs to the last finite point. */
  tail: boolean;
}

/**
 * The longest stretch (≥ 30% of the run) over which the best of the smoothed curve improved by
 * under max(1% of the total gain, what noise alone moves it). Smoothing first: on a noisy curve
 * the best of the raw points keeps creeping after convergence, one lucky point at a time.
 */
function flatStretch(c: Curve): FlatStretch | null {
  if (c.direction === null) return null;
  const idx = finitePrefix(c);
  const n = idx.length;
  if (n < 20) return null;
  const sign = signOf(c);
  const vals = idx.map((i) => c.values[i]!);
  const h = smoothing(n);
  const smooth = rollingMedian(vals, h);
  const running: number[] = [];
  for (const v of smooth) {
    const prev = running[running.length - 1];
    running.push(prev === undefined || sign * (v - prev) < 0 ? v : prev);
  }
  const total = Math.abs(running[0]! - running[n - 1]!);
  const first = c.steps[idx[0]!]!;
  const span = c.steps[idx[n - 1]!]! - first;
  if (span <= 0) return null;
  // Point noise (robust spread around the smoothed curve), and what is left of it after smoothing.
  const noise = mad(vals.map((v, k) => v - smooth[k]!));
  const tol = Math.max(0.01 * total, (5 * noise) / Math.sqrt(2 * h + 1));
  let bestLen = 0;
  let from = 0;
  let to = 0;
  for (let i = 0, j = 0; i < n; i++) {
    if (j < i) j = i;
    while (j + 1 < n && Math.abs(running[i]! - running[j + 1]!) <= tol) j++;
    const len = c.steps[idx[j]!]! - c.steps[idx[i]!]!;
    if (len > bestLen) [bestLen, from, to] = [len, i, j];
  }
  if (bestLen < 0.3 * span || to - from < 10) return null;
  // The running best can still flatten by luck (one deep dip of the noise): check the claim on
  // the points themselves, as a change between medians `d` (> 0: better) and its noise bound `u`.
  const level = (a: number, b: number): number => median(vals.slice(a, b + 1));
  const change = (a: [number, number], b: [number, number]): { d: number; u: number } => {
    const spread = mad(vals.slice(a[0], b[1] + 1).map((v, k) => v - smooth[a[0] + k]!));
    const u = 3 * 1.25 * spread * Math.sqrt(1 / (a[1] - a[0] + 1) + 1 / (b[1] - b[0] + 1));
    return { d: sign * (level(...a) - level(...b)), u };
  };
  const mid = (from + to) >> 1;
  // "Far better": a gain above the point noise and not a sliver of the value itself.
  const gain = sign * (smooth[0]! - running[from]!);
  const learned = gain > 0 && gain >= 2 * noise && gain >= 0.02 * Math.abs(smooth[0]!);
  const halves = change([from, mid], [mid + 1, to]);
  // After learning, flat means provably within 2% of the gain; before, no change beyond noise.
  if (learned ? Math.abs(halves.d) + halves.u > 0.02 * gain : Math.abs(halves.d) > Math.max(halves.u, 0.01 * total)) return null;
  // Whatever follows the stretch must be clearly better, over enough points to tell, else nothing
  // is said either way.
  if (to < n - 1) {
    if (n - 1 - to < 10) return null;
    const after = change([mid + 1, to], [to + 1, n - 1]);
    if (after.d - after.u <= 0.01 * total) return null;
  }
  return {
    steps: [c.steps[idx[from]!]!, c.steps[idx[to]!]!],
    level: [level(from, mid), level(mid + 1, to)],
    first: { step: first, value: vals[0]! },
    after: to < n - 1 ? level(to + 1, n - 1) : null,
    learned,
    tail: to === n - 1,
  };
}

/**
 * Where the run converged: its smoothed best moved by no more than noise or 1% of the total gain
 * from a step on to the end, far better than where it started. Null when it did not (still improving, or never learned).
 */
export function convergence(c: Curve): { step: number; level: number; first: { step: number; value: number } } | null {
  const f = flatStretch(c);
  return f?.learned && f.tail ? { step: f.steps[0], level: f.level[1], first: f.first } : null;
}

/**
 * Flat stretches that are problems: a run that never learned, a slow start, or a plateau in the
 * middle of training. A flat tail far better than the start is convergence, not a plateau.
 */
export function detectPlateau(c: Curve): Finding[] {
  const f = flatStretch(c);
  if (!f || (f.learned && f.tail)) return [];
  const [a, z] = f.steps;
  const [from, to] = f.level.map(fmt);
  const finding = { kind: 'plateau' as const, metric: c.name, steps: [a, z] as [number, number] };
  if (f.learned) {
    return [
      {
        ...finding,
        severity: 'info',
        message: `${c.name} plateaued from step ${a} to ${z} at about ${to}, then improved again (median ${fmt(f.after!)} after it).`,
      },
    ];
  }
  return [
    {
      ...finding,
      severity: 'warning',
      message: f.tail
        ? `${c.name} barely improved from step ${a} to the end (step ${z}; about ${from} → ${to}; ${fmt(f.first.value)} at step ${f.first.step}): the model is not learning (learning rate too low, frozen weights or a data problem?).`
        : `${c.name} barely improved from step ${a} to ${z} (about ${from} → ${to}) before it started improving (median ${fmt(f.after!)} after it): a slow start (learning rate too low or a long warm-up?).`,
    },
  ];
}

/** Stretches where the metric zig-zags (the sign of its step-to-step change flips almost every step) by a material amount. */
export function detectOscillation(c: Curve): Finding[] {
  if (c.direction === null) return [];
  const idx = finitePrefix(c);
  const n = idx.length;
  const w = Math.max(40, Math.floor(n / 10));
  if (n < w + 1) return [];
  const vals = idx.map((i) => c.values[i]!);
  const d = vals.slice(1).map((v, i) => v - vals[i]!);
  const flagged: [number, number][] = [];
  for (let start = 0; start + w <= d.length; start += w >> 1) {
    let flips = 0;
    let amp = 0;
    for (let k = start; k < start + w; k++) {
      amp += Math.abs(d[k]!);
      if (k > start && d[k]! * d[k - 1]! < 0) flips++;
    }
    amp /= w;
    const net = Math.abs(vals[start + w]! - vals[start]!);
    const level = Math.max(median(vals.slice(start, start + w + 1).map(Math.abs)), 1e-12);
    if (flips / (w - 1) >= 0.95 && amp > 0.05 * level && amp * w > 3 * net) flagged.push([start, start + w]);
  }
  const merged: [number, number][] = [];
  for (const f of flagged) {
    const last = merged[merged.length - 1];
    if (last && f[0] <= last[1]) last[1] = Math.max(last[1], f[1]);
    else merged.push([...f]);
  }
  return merged.map(([a, z]) => ({
    kind: 'oscillation' as const,
    severity: 'warning' as const,
    metric: c.name,
    steps: [c.steps[idx[a]!]!, c.steps[idx[z]!]!] as [number, number],
    message: `${c.name} oscillates between steps ${c.steps[idx[a]!]} and ${c.steps[idx[z]!]} (its change flips sign almost every step): the learning rate is likely too high.`,
  }));
}
