import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../src/modules/analysis/analyzer.js';
import { hyperparameterImportance } from '../src/modules/analysis/analyzer.importance.js';
import { comparableRuns, isSeedKey } from '../src/modules/analysis/analyzer.peers.js';
import { splitRole, trainValPairs } from '../src/modules/analysis/analyzer.pairs.js';
import { median, rollingMedian, spearman } from '../src/modules/analysis/analyzer.stats.js';
import { curveOf, type Curve, type Finding, type RunOutcome } from '../src/modules/analysis/analyzer.types.js';

/** Deterministic noise, so a failing case fails the same way every time. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

const N = 1000;
const STEPS = Array.from({ length: N }, (_, i) => i);

function lossCurve(seed: number, edit: (s: number, v: number) => number = (_s, v) => v, name = 'loss'): Curve {
  const noise = rng(seed);
  return curveOf(
    name,
    'min',
    STEPS,
    STEPS.map((s) => edit(s, 2 * Math.exp(-s / 300) + 0.1 + 0.004 * noise())),
  );
}

function accCurve(seed: number): Curve {
  const noise = rng(seed);
  return curveOf(
    'val/acc',
    'max',
    STEPS,
    STEPS.map((s) => 0.95 - 0.85 * Math.exp(-s / 300) + 0.003 * noise()),
  );
}

const problems = (fs: readonly Finding[]): Finding[] => fs.filter((f) => f.kind !== 'best_step');
const only = (fs: readonly Finding[], kind: Finding['kind']): Finding[] => fs.filter((f) => f.kind === kind);
const near = (actual: number, expected: number, tolerance: number): void => {
  expect(Math.abs(actual - expected), `${actual} vs ${expected} ± ${tolerance}`).toBeLessThanOrEqual(tolerance);
};

describe('built-in analyzer on synthetic runs', () => {
  it('raises no alarm on a clean run, and reports the best step per metric', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const out = analyzeRun({
        name: 'clean',
        curves: [
          lossCurve(seed, undefined, 'train/loss'),
          lossCurve(seed + 100, (_s, v) => v + 0.05, 'val/loss'),
          accCurve(seed),
        ],
        hyperparams: { lr: 0.001 },
      });
      expect(problems(out.findings), `seed ${seed}`).toEqual([]);
      expect(
        only(out.findings, 'best_step')
          .map((f) => f.metric)
          .sort(),
      ).toEqual(['train/loss', 'val/acc', 'val/loss']);
      expect(out.primaryMetric).toBe('val/loss');
      expect(out.summary).toContain('No divergence');
    }
  });

  it('finds divergence from where the loss starts climbing', () => {
    const out = analyzeRun({
      name: 'div',
      curves: [lossCurve(7, (s, v) => (s < 600 ? v : v * Math.exp((s - 600) / 60)))],
      hyperparams: {},
    });
    const [f] = only(out.findings, 'divergence');
    expect(f).toBeDefined();
    near(f!.steps[0], 600, 120);
    expect(f!.steps[1]).toBe(999);
    expect(f!.severity).toBe('critical');
  });

  it('finds the exact NaN and Infinity onset', () => {
    const nan = analyzeRun({ name: 'nan', curves: [lossCurve(8, (s, v) => (s >= 777 ? NaN : v))], hyperparams: {} });
    expect(only(nan.findings, 'nan_inf')).toMatchObject([{ metric: 'loss', steps: [777, 999], severity: 'critical' }]);
    expect(problems(nan.findings).filter((f) => f.kind !== 'nan_inf')).toEqual([]);
    const inf = analyzeRun({ name: 'inf', curves: [lossCurve(9, (s, v) => (s === 500 ? Infinity : v))], hyperparams: {} });
    expect(only(inf.findings, 'nan_inf')[0]!.steps[0]).toBe(500);
  });

  it('finds a one-step loss spike at its step', () => {
    const out = analyzeRun({ name: 'spike', curves: [lossCurve(10, (s, v) => (s === 412 ? v * 6 : v))], hyperparams: {} });
    expect(only(out.findings, 'spike')).toMatchObject([{ metric: 'loss', steps: [412, 412] }]);
    expect(problems(out.findings).filter((f) => f.kind !== 'spike')).toEqual([]);
  });

  it('finds a plateau where the run is stuck before it learns', () => {
    const noise = rng(11);
    const values = STEPS.map((s) => (s < 400 ? 2 : 2 * Math.exp(-(s - 400) / 100)) + 0.002 * noise());
    const out = analyzeRun({ name: 'stuck', curves: [curveOf('loss', 'min', STEPS, values)], hyperparams: {} });
    const [f] = only(out.findings, 'plateau');
    expect(f?.severity).toBe('warning');
    near(f!.steps[0], 0, 20);
    near(f!.steps[1], 400, 40);
  });

  it('finds oscillation (learning rate too high) over the stretch where it happens', () => {
    const out = analyzeRun({
      name: 'osc',
      curves: [lossCurve(12, (s, v) => (s >= 300 && s < 700 ? v + 0.3 * (s % 2 ? 1 : -1) : v))],
      hyperparams: {},
    });
    const found = only(out.findings, 'oscillation');
    expect(found).toHaveLength(1);
    near(found[0]!.steps[0], 300, 60);
    near(found[0]!.steps[1], 700, 60);
  });

  it('finds overfitting from the validation minimum', () => {
    const train = lossCurve(13, undefined, 'train_loss');
    const noise = rng(14);
    const val = curveOf(
      'val_loss',
      'min',
      STEPS,
      STEPS.map((s) => 0.3 + (0.002 * (s - 500) ** 2) / 500 + 0.003 * noise()),
    );
    const out = analyzeRun({ name: 'overfit', curves: [train, val], hyperparams: {} });
    const [f] = only(out.findings, 'overfitting');
    expect(f).toMatchObject({ metric: 'val_loss', severity: 'warning' });
    near(f!.steps[0], 500, 40);
    expect(f!.steps[1]).toBe(999);
    expect(only(out.findings, 'divergence')).toEqual([]);
  });

  it('finds regressions against the reference, and none against an equal one', () => {
    const ref = { name: 'baseline', curves: [lossCurve(15)] };
    const worse = analyzeRun({ name: 'worse', curves: [lossCurve(15, (_s, v) => v * 1.3)], hyperparams: {}, reference: ref });
    expect(only(worse.findings, 'regression')).toMatchObject([{ metric: 'loss', severity: 'critical' }]);
    const same = analyzeRun({ name: 'same', curves: [lossCurve(15)], hyperparams: {}, reference: ref });
    expect(only(same.findings, 'regression')).toEqual([]);
  });
});

describe('hyperparameter importance', () => {
  const noise = rng(21);
  const runs: RunOutcome[] = Array.from({ length: 24 }, (_, i) => {
    const lr = 10 ** (-4 + (i % 8) * 0.4);
    const optimizer = Math.floor(i / 8) % 2 ? 'adam' : 'sgd';
    return {
      id: String(i),
      hyperparams: { lr, optimizer, seed: Math.floor((noise() + 0.5) * 1000), batch: 32 },
      best: Math.log10(lr) + (optimizer === 'adam' ? -0.1 : 0.1) + 0.01 * noise(),
    };
  });

  it('ranks a hyperparameter that drives the metric 5 and noise low, with values to try', () => {
    const out = hyperparameterImportance({
      keys: ['lr', 'seed', 'batch', 'optimizer'],
      runs,
      metric: 'val/loss',
      direction: 'min',
    });
    expect(out.lr!.importance_level).toBe(5);
    expect(out.lr!.recommendation).toContain('Lower lr');
    expect(out.lr!.recommendation).toContain('0.0001');
    expect(out.seed!.importance_level).toBeLessThanOrEqual(2);
    expect(out.batch!.importance_level).toBe(1);
    expect(out.optimizer!.recommendation).toContain('best on average is adam');
  });

  it('flips with the direction of the metric', () => {
    const out = hyperparameterImportance({ keys: ['lr'], runs, metric: 'acc', direction: 'max' });
    expect(out.lr!.recommendation).toContain('Higher lr');
  });

  it('says when there are too few runs', () => {
    const out = hyperparameterImportance({ keys: ['lr'], runs: runs.slice(0, 2), metric: 'loss', direction: 'min' });
    expect(out.lr).toMatchObject({ importance_level: 1 });
    expect(out.lr!.recommendation).toContain('Only 2');
  });

  it('takes rolling medians over a sorted window, shrinking at the ends', () => {
    expect(rollingMedian([1, 9, 1, 1, 1], 1)).toEqual([5, 1, 1, 1, 1]);
    const xs = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);
    const slow = xs.map((_, i) => median(xs.slice(Math.max(0, i - 3), i + 4)));
    expect(rollingMedian(xs, 3)).toEqual(slow);
  });

  it('computes Spearman with ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 2, 2], [1, 1, 2, 2])).toBeCloseTo(1);
  });
});

describe('train/validation pairing', () => {
  it('pairs the usual spellings', () => {
    expect(splitRole('train/loss')).toEqual({ role: 'train', base: 'loss' });
    expect(splitRole('val_loss')).toEqual({ role: 'val', base: 'loss' });
    expect(splitRole('loss/valid')).toEqual({ role: 'val', base: 'loss' });
    expect(trainValPairs(['train/loss', 'val/loss', 'lr'])).toEqual([['train/loss', 'val/loss']]);
    expect(trainValPairs(['train_loss', 'val_loss'])).toEqual([['train_loss', 'val_loss']]);
    expect(trainValPairs(['loss', 'val_loss', 'val_acc'])).toEqual([['loss', 'val_loss']]);
  });
});

describe('built-in analyzer says only what is true', () => {
  const run = (...curves: Curve[]) => analyzeRun({ name: 'r', curves, hyperparams: {} });

  it('never calls a run’s first point a spike (a run starts high, or low for accuracy)', () => {
    const noise = rng(31);
    const loss = curveOf(
      'loss',
      'min',
      STEPS,
      STEPS.map((s) => (s === 0 ? 6.9 : 0.3 + 2 * Math.exp(-s / 250) + 0.01 * noise())),
    );
    const acc = curveOf(
      'val/acc',
      'max',
      STEPS,
      STEPS.map((s) => (s === 0 ? 0.1 : 0.9 - 0.3 * Math.exp(-s / 250) + 0.01 * noise())),
    );
    const steep = curveOf(
      'train/loss',
      'min',
      STEPS,
      STEPS.map((s) => 0.3 + 2 * Math.exp(-s / 2) + 0.01 * noise()),
    );
    for (const c of [loss, acc, steep]) expect(only(run(c).findings, 'spike'), c.name).toEqual([]);
    // A real spike after the start is still found.
    const later = curveOf(
      'loss',
      'min',
      STEPS,
      loss.values.map((v, s) => (s === 3 ? v * 4 : v)),
    );
    expect(only(run(later).findings, 'spike')).toMatchObject([{ steps: [3, 3] }]);
  });

  it('calls a flat tail far better than the start convergence, never a plateau or "not learning"', () => {
    const noise = rng(32);
    const fast = curveOf(
      'loss',
      'min',
      STEPS,
      STEPS.map((s) => 0.1 + 2.2 * Math.exp(-s / 5) + 0.004 * noise()),
    );
    const acc = curveOf(
      'val/acc',
      'max',
      STEPS,
      STEPS.map((s) => 0.9 - 0.8 * Math.exp(-s / 60) + 0.01 * noise()),
    );
    for (const c of [fast, acc]) {
      const out = run(c);
      expect(only(out.findings, 'plateau'), c.name).toEqual([]);
      expect(out.summary).not.toContain('not learning');
      expect(out.summary).toContain(`${c.name} converged`);
    }
  });

  it('still says "not learning" for a run that never improved, and "slow start" for one that improved late', () => {
    const noise = rng(33);
    const flat = run(
      curveOf(
        'loss',
        'min',
        STEPS,
        STEPS.map(() => 2.3 + 0.01 * noise()),
      ),
    );
    expect(only(flat.findings, 'plateau')).toMatchObject([{ severity: 'warning' }]);
    expect(only(flat.findings, 'plateau')[0]!.message).toContain('not learning');
    expect(flat.summary).not.toContain('converged');
    const late = run(
      curveOf(
        'loss',
        'min',
        STEPS,
        STEPS.map((s) => (s < 400 ? 2 : 2 * Math.exp(-(s - 400) / 100)) + 0.002 * noise()),
      ),
    );
    expect(only(late.findings, 'plateau')[0]!.message).toContain('slow start');
    expect(only(late.findings, 'plateau')[0]!.message).not.toContain('not learning');
  });

  it('reports no plateau on a run that diverged after its best', () => {
    const noise = rng(34);
    const out = run(
      curveOf(
        'loss',
        'min',
        STEPS,
        STEPS.map((s) => 2 * Math.exp(-s / 100) + 0.1 + (s > 500 ? ((s - 500) / 100) ** 2 : 0) + 0.01 * noise()),
      ),
    );
    expect(only(out.findings, 'divergence')).toHaveLength(1);
    expect(only(out.findings, 'plateau')).toEqual([]);
  });

  it('counts one continuous NaN stretch as one, and separate stretches as such', () => {
    const tail = run(lossCurve(35, (s, v) => (s >= 26 ? NaN : v)));
    const [f] = only(tail.findings, 'nan_inf');
    expect(f!.message).not.toContain('later stretch');
    expect(f!.message).toContain('still NaN/Inf at the last step (999)');
    const two = run(lossCurve(36, (s, v) => ((s >= 300 && s < 310) || s >= 800 ? NaN : v)));
    expect(only(two.findings, 'nan_inf')[0]!.message).toContain('at step 300 and again in 1 later stretch ');
    // One Inf that the run recovered from is not a run that diverged.
    const blip = run(lossCurve(37, (s, v) => (s === 500 ? Infinity : v)));
    expect(only(blip.findings, 'nan_inf')[0]!.message).toContain('then finite again');
    expect(only(blip.findings, 'nan_inf')[0]!.message).not.toContain('diverged');
  });

  it('does not claim "nothing detected" on a run too short to judge', () => {
    const single = run(curveOf('loss', 'min', [0], [2.3]));
    expect(single.summary).not.toContain('No divergence');
    expect(single.summary).toContain('too few to judge divergence');
    expect(single.summary).toContain('at step 0.');
    expect(single.summary).not.toContain('steps 0–0');
  });
});

describe('regressions against a reference say only what is true', () => {
  it('compares a run still early in training with the reference at the same steps, not at its end', () => {
    const ref = { name: 'baseline', curves: [lossCurve(15)] };
    const early = (edit?: (s: number, v: number) => number) => {
      const c = lossCurve(15, edit);
      const keep = c.steps.filter((s) => s < 100).length;
      return curveOf('loss', 'min', c.steps.slice(0, keep), c.values.slice(0, keep));
    };
    const same = analyzeRun({ name: 'early', curves: [early()], hyperparams: {}, reference: ref });
    expect(only(same.findings, 'regression')).toEqual([]);
    const worse = analyzeRun({ name: 'early', curves: [early((_s, v) => v * 1.3)], hyperparams: {}, reference: ref });
    const [f] = only(worse.findings, 'regression');
    expect(f!.message).toContain('over the steps both reached (to step 99)');
    expect(f!.steps[1]).toBe(99);
  });
});

describe('hyperparameter recommendations say only what is true', () => {
  it('says a hyperparameter never varied instead of advising other values', () => {
    const runs: RunOutcome[] = [1, 2, 3, 4, 5].map((i) => ({ id: String(i), hyperparams: { batch: 32 }, best: i }));
    for (const rs of [runs, runs.slice(0, 1)]) {
      const out = hyperparameterImportance({ keys: ['batch'], runs: rs, metric: 'val/loss', direction: 'min' });
      expect(out.batch!.recommendation).toContain('batch never varied');
      expect(out.batch!.recommendation).toContain('= 32');
      expect(out.batch!.recommendation).not.toMatch(/try|log runs/i);
      expect(out.batch!.importance_level).toBe(1);
    }
  });

  it('names no "best run" to copy when every run reached the same value', () => {
    const runs: RunOutcome[] = [1, 2, 3, 4].map((i) => ({ id: String(i), hyperparams: { lr: i / 10 }, best: 0.5 }));
    const out = hyperparameterImportance({ keys: ['lr'], runs, metric: 'val/loss', direction: 'min' });
    expect(out.lr!.recommendation).toContain('same val/loss');
    expect(out.lr!.recommendation).not.toContain('try values');
  });
});

/** Standard normal noise from `rng` (Box–Muller), so tails are as long as real noise's. */
function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(u() + 0.5 + 1e-12)) * Math.cos(2 * Math.PI * (u() + 0.5));
}

/** A long series as the server hands it to the analyzer: `buckets` buckets with last value, extremes and their steps. */
function bucketed(name: string, direction: 'min' | 'max', n: number, value: (s: number) => number, buckets = 2000): Curve {
  const c: Curve = { name, direction, steps: [], values: [], lo: [], loStep: [], hi: [], hiStep: [], badStep: [] };
  const width = Math.ceil(n / buckets);
  for (let s = 0; s < n; s++) {
    const v = value(s);
    if (s % width === 0) {
      c.steps.push(s);
      c.values.push(v);
      c.lo.push(v);
      c.loStep.push(s);
      c.hi.push(v);
      c.hiStep.push(s);
      c.badStep.push(null);
      continue;
    }
    const k = c.steps.length - 1;
    c.steps[k] = s;
    c.values[k] = v;
    if (v < c.lo[k]!) [c.lo[k], c.loStep[k]] = [v, s];
    if (v > c.hi[k]!) [c.hi[k], c.hiStep[k]] = [v, s];
  }
  return c;
}

describe('built-in analyzer on noisy, bucketed runs', () => {
  it('finds no spike in the ordinary noise of a minibatch loss (50,000 steps, 2,000 buckets)', () => {
    for (const seed of [41, 42, 43]) {
      const g = gaussian(seed);
      const loss = bucketed('train/loss', 'min', 50_000, (s) => (0.4 + 2 * Math.exp(-s / 8000)) * Math.exp(0.2 * g()));
      expect(problems(run1(loss).findings), `seed ${seed}`).toEqual([]);
    }
    // A real spike in the same noise is still found at its step.
    const g = gaussian(44);
    const spiky = bucketed(
      'train/loss',
      'min',
      50_000,
      (s) => (0.4 + 2 * Math.exp(-s / 8000)) * Math.exp(0.2 * g()) * (s === 31_337 ? 8 : 1),
    );
    expect(only(run1(spiky).findings, 'spike')).toMatchObject([{ steps: [31_337, 31_337] }]);
  });

  it('calls no noisy converged run a plateau, a slow start or "not learning"', () => {
    for (const seed of [45, 46, 47]) {
      const g = gaussian(seed);
      const reward = bucketed('reward', 'max', 20_000, (s) => 200 * (1 - Math.exp(-s / 5000)) + 30 * g());
      const loss = bucketed('loss', 'min', 10_000, (s) => 0.52 - 0.04 * (1 - Math.exp(-s / 2000)) + 0.01 * g());
      for (const c of [reward, loss]) expect(only(run1(c).findings, 'plateau'), `${c.name} seed ${seed}`).toEqual([]);
    }
  });

  it('calls a flat noisy run one that never learned, not one that diverged', () => {
    for (let seed = 51; seed <= 60; seed++) {
      const g = gaussian(seed);
      const out = run1(
        curveOf(
          'loss',
          'min',
          STEPS,
          STEPS.map(() => 2.3 * Math.exp(0.1 * g())),
        ),
      );
      expect(only(out.findings, 'divergence'), `seed ${seed}`).toEqual([]);
      expect(only(out.findings, 'plateau')[0]?.message, `seed ${seed}`).toContain('not learning');
    }
  });

  it('calls no noisy, converged validation curve overfitting, nor its noise oscillation', () => {
    const steps = Array.from({ length: 200 }, (_, i) => i * 5);
    for (let seed = 61; seed <= 80; seed++) {
      const g = gaussian(seed);
      const train = lossCurve(seed, undefined, 'train/loss');
      const val = curveOf(
        'val/loss',
        'min',
        steps,
        steps.map((s) => (0.5 + 1.5 * Math.exp(-s / 100)) * Math.exp(0.1 * g())),
      );
      const out = analyzeRun({ name: 'r', curves: [train, val], hyperparams: {} });
      expect(
        out.findings.filter((f) => f.kind === 'overfitting' || f.kind === 'oscillation'),
        `seed ${seed}`,
      ).toEqual([]);
    }
  });

  it('still finds the plateau between two learning-rate drops', () => {
    const g = gaussian(48);
    const loss = bucketed(
      'loss',
      'min',
      90_000,
      (s) => (s < 30_000 ? 1 + Math.exp(-s / 3000) : s < 70_000 ? 0.6 : 0.45) * Math.exp(0.05 * g()),
    );
    const [f] = only(run1(loss).findings, 'plateau');
    expect(f).toMatchObject({ severity: 'info' });
    near(f!.steps[0], 30_000, 1500);
    near(f!.steps[1], 70_000, 1500);
    expect(f!.message).toContain('then improved again');
  });
});

function run1(c: Curve) {
  return analyzeRun({ name: 'r', curves: [c], hyperparams: {} });
}

describe('comparable runs', () => {
  const r = (id: string, group: string | null, hyperparams: Record<string, number>) => ({
    id,
    name: id,
    group,
    hyperparams,
    best: 1,
  });

  it('calls seed, random_state and *_seed keys seeds, and nothing else', () => {
    for (const k of ['seed', 'random_state', 'data_seed', 'args.seed', 'trainer/seed']) expect(isSeedKey(k)).toBe(true);
    for (const k of ['lr', 'seed_model', 'seeds_count', 'batch_size']) expect(isSeedKey(k)).toBe(false);
  });

  it('takes the group first, else the runs sharing most keys, else none', () => {
    const self = r('a', 'g', { lr: 1, seed: 1 });
    const runs = [
      self,
      r('b', 'g', { lr: 2, batch: 1, warmup: 1 }),
      r('c', 'g', { lr: 3, batch: 1, warmup: 1 }),
      r('d', null, { lr: 4, seed: 2 }),
      r('e', null, { x: 1 }),
    ];
    expect(comparableRuns(self, runs)).toMatchObject({ basis: 'group', group: 'g' });
    expect(comparableRuns(self, runs).runs.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    const loner = r('a', null, { lr: 1, seed: 1 });
    expect(comparableRuns(loner, [loner, ...runs.slice(1)]).runs.map((x) => x.id)).toEqual(['a', 'd']);
    expect(comparableRuns(r('z', null, { q: 1 }), runs)).toMatchObject({ basis: 'none', runs: [{ id: 'z' }] });
  });

  it('never advises on a seed, and says which runs it compared with', () => {
    const runs = [0.001, 0.01, 0.03, 0.1, 0.3].map((lr, i) => ({
      id: `r${i}`,
      name: `lr${lr}`,
      group: 'sweep',
      hyperparams: { lr, seed: i },
      best: (Math.log10(lr) - Math.log10(0.03)) ** 2,
    }));
    const out = analyzeRun({ name: 'lr0.3', curves: [lossCurve(3)], hyperparams: { lr: 0.3, seed: 4 }, runs, runId: 'r4' });
    expect(out.hyperparameter_recommendations.lr!.recommendation).toContain('around 0.03 ');
    expect(out.hyperparameter_recommendations.seed!.recommendation).toContain('random seed');
    expect(out.comparedWith).toMatchObject({ basis: 'group', group: 'sweep' });
    expect(out.comparedWith!.runs).toHaveLength(4);
    expect(out.summary).toContain('compared with the 5 runs of group "sweep" (lr0.3, lr0.001, lr0.01, lr0.03, lr0.1)');
  });

  it('reports a single NaN at its step', () => {
    const blip = analyzeRun({ name: 'x', curves: [lossCurve(5, (s, v) => (s === 500 ? NaN : v))], hyperparams: {} });
    expect(only(blip.findings, 'nan_inf')).toMatchObject([{ steps: [500, 500] }]);
    expect(only(blip.findings, 'nan_inf')[0]!.message).toContain('was NaN/Inf at step 500,');
  });
});
