import type { Curve, Finding } from './analyzer.types.js';
import { bestPoint, finitePrefix, fmt, smoothing } from './analyzer.curves.js';
import { mad, median, rollingMedian } from './analyzer.stats.js';

const TRAIN = new Set(['train', 'training', 'trn']);
const VAL = new Set(['val', 'valid', 'validation', 'eval', 'dev', 'test']);

/** `train/loss` → {role: train, base: loss}; `val_loss` → {role: val, base: loss}; `loss` → {role: plain, base: loss}. */
export function splitRole(name: string): { role: 'train' | 'val' | 'plain'; base: string } {
  const parts = name
    .toLowerCase()
    .split(/[/_.\-\s]+/)
    .filter(Boolean);
  for (const at of [0, parts.length - 1]) {
    const word = parts[at];
    if (parts.length < 2 || word === undefined) break;
    const role = TRAIN.has(word) ? 'train' : VAL.has(word) ? 'val' : null;
    if (role) return { role, base: parts.filter((_, i) => i !== at).join('/') };
  }
  return { role: 'plain', base: parts.join('/') };
}

/** Train/validation pairs of the same quantity: `train/loss`+`val/loss`, `train_loss`+`val_loss`, `loss`+`val_loss`. */
export function trainValPairs(names: readonly string[]): [string, string][] {
  const parsed = names.map((name) => ({ name, ...splitRole(name) }));
  const pairs: [string, string][] = [];
  for (const v of parsed.filter((p) => p.role === 'val')) {
    const train =
      parsed.find((p) => p.role === 'train' && p.base === v.base) ?? parsed.find((p) => p.role === 'plain' && p.base === v.base);
    if (train) pairs.push([train.name, v.name]);
  }
  return pairs;
}

/** Median of the finite values within `h` points of `step` (the nearest logged step at or after it): a level, not one noisy point. */
function levelAt(c: Curve, step: number, h: number): number {
  let lo = 0;
  let hi = c.steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c.steps[mid]! < step) lo = mid + 1;
    else hi = mid;
  }
  return median(c.values.slice(Math.max(0, lo - h), lo + h + 1).filter(Number.isFinite));
}

/**
 * Validation gets worse after its best while training keeps improving. Judged on the rolling
 * median, and the end must be worse than the best beyond noise: a noisy validation curve's best
 * single point is a lucky dip, and its last one is anywhere.
 */
export function detectOverfitting(train: Curve, val: Curve): Finding[] {
  if (val.direction === null) return [];
  const sign = val.direction === 'max' ? -1 : 1;
  const idx = finitePrefix(val);
  const n = idx.length;
  if (n < 10) return [];
  const vals = idx.map((i) => val.values[i]!);
  const h = smoothing(n);
  const smooth = rollingMedian(vals, h);
  let b = 0;
  for (let i = 1; i < n; i++) if (sign * (smooth[i]! - smooth[b]!) < 0) b = i;
  if (n - 1 - b < Math.max(3, 0.1 * n)) return [];
  const best = smooth[b]!;
  const m = Math.max(3, Math.floor(0.05 * n));
  const last = median(vals.slice(n - m));
  const worse = sign * (last - best);
  const noise = mad(vals.map((v, k) => v - smooth[k]!));
  const bound = 4 * 1.25 * noise * Math.sqrt(1 / m + 1 / (2 * h + 1));
  if (worse <= Math.max(0.05 * Math.abs(best), 0.1 * Math.abs(smooth[0]! - best), bound)) return [];
  const bestStep = val.steps[idx[b]!]!;
  const lastStep = val.steps[idx[n - 1]!]!;
  const trainH = smoothing(train.steps.length);
  const trainThen = levelAt(train, bestStep, trainH);
  const trainEnd = levelAt(train, lastStep, trainH);
  if (!Number.isFinite(trainThen) || !Number.isFinite(trainEnd)) return [];
  if (sign * (trainEnd - trainThen) >= -0.01 * Math.abs(trainThen)) return [];
  return [
    {
      kind: 'overfitting',
      severity: 'warning',
      metric: val.name,
      steps: [bestStep, lastStep],
      message: `${val.name} got worse after its best (about ${fmt(best)} around step ${bestStep} → median ${fmt(last)} over its last ${m} values, to step ${lastStep}) while ${train.name} kept improving (about ${fmt(trainThen)} → ${fmt(trainEnd)}): overfitting. Stop near step ${bestStep}, or add regularization or data.`,
    },
  ];
}

function lastFinite(c: Curve): { value: number; step: number } | null {
  for (let i = c.values.length - 1; i >= 0; i--)
    if (Number.isFinite(c.values[i])) return { value: c.values[i]!, step: c.steps[i]! };
  return null;
}

/** The buckets of `c` that end at or before `step`. */
function upTo(c: Curve, step: number): Curve {
  let n = c.steps.length;
  while (n > 0 && c.steps[n - 1]! > step) n--;
  const cut = <T>(xs: T[]): T[] => xs.slice(0, n);
  return {
    ...c,
    steps: cut(c.steps),
    values: cut(c.values),
    lo: cut(c.lo),
    loStep: cut(c.loStep),
    hi: cut(c.hi),
    hiStep: cut(c.hiStep),
    badStep: cut(c.badStep),
    badLastStep: c.badLastStep && cut(c.badLastStep),
  };
}

/**
 * Final or best value worse than the reference's by more than `threshold` (relative), over the
 * steps both reached: a run still at step 100 is not compared with where the reference ended.
 */
export function detectRegressions(
  curves: readonly Curve[],
  reference: { name: string; curves: readonly Curve[] },
  threshold = 0.02,
): Finding[] {
  const out: Finding[] = [];
  for (const whole of curves) {
    const ref = reference.curves.find((x) => x.name === whole.name);
    if (!ref || whole.direction === null || whole.steps.length === 0 || ref.steps.length === 0) continue;
    const common = Math.min(whole.steps[whole.steps.length - 1]!, ref.steps[ref.steps.length - 1]!);
    const [c, r] = [upTo(whole, common), upTo(ref, common)];
    const cut = c.steps.length < whole.steps.length || r.steps.length < ref.steps.length;
    const sign = c.direction === 'max' ? -1 : 1;
    const rel = (mine: number, ref: number): number => (sign * (mine - ref)) / Math.max(Math.abs(ref), 1e-12);
    const [mb, rb, ml, rl] = [bestPoint(c), bestPoint({ ...r, direction: c.direction }), lastFinite(c), lastFinite(r)];
    const parts: string[] = [];
    let worst = 0;
    if (ml && rl && rel(ml.value, rl.value) > threshold) {
      worst = Math.max(worst, rel(ml.value, rl.value));
      parts.push(`${cut ? 'last' : 'final'} ${fmt(ml.value)} vs ${fmt(rl.value)} (${fmt(100 * rel(ml.value, rl.value))}% worse)`);
    }
    if (mb && rb && rel(mb.value, rb.value) > threshold) {
      worst = Math.max(worst, rel(mb.value, rb.value));
      parts.push(`best ${fmt(mb.value)} vs ${fmt(rb.value)} (${fmt(100 * rel(mb.value, rb.value))}% worse)`);
    }
    if (parts.length === 0) continue;
    out.push({
      kind: 'regression',
      severity: worst > 0.2 ? 'critical' : 'warning',
      metric: c.name,
      steps: [mb?.step ?? whole.steps[0]!, ml?.step ?? common],
      message: `${c.name} regressed against the reference "${reference.name}"${cut ? ` over the steps both reached (to step ${common})` : ''}: ${parts.join('; ')}.`,
    });
  }
  return out;
}
