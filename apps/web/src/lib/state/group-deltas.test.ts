import { describe, expect, it } from 'vitest';
import type { CompareExperiment } from '$lib/api';
import { groupDeltas } from './group-deltas';

const run = (id: string, best: number | null, last: number): CompareExperiment =>
  ({ id, metrics: [{ name: 'loss', best, last }] }) as unknown as CompareExperiment;

describe('groupDeltas', () => {
  it("reads each group's mean and each run against the reference group's mean", () => {
    const experiments = [run('a', 1, 9), run('b', 3, 9), run('c', 4, 9), run('d', null, 6)];
    const groups = [
      { id: 'g1', label: 'lr=0.1', ids: ['a', 'b'], color: '#000' },
      { id: 'g2', label: 'lr=0.01', ids: ['c', 'd'], color: '#fff' },
    ];
    const [g1, g2] = groupDeltas({ experiments, groups, referenceId: 'g1', metric: 'loss' });
    expect(g1).toMatchObject({ n: 2, mean: 2, delta: 0, pct: 0 });
    expect(g1!.runs.map((r) => r.delta)).toEqual([-1, 1]);
    // d has no best (no direction): its last counts.
    expect(g2).toMatchObject({ n: 2, mean: 5, delta: 3, pct: 150 });
    expect(g2!.runs).toEqual([
      { id: 'c', value: 4, delta: 2, pct: 100 },
      { id: 'd', value: 6, delta: 4, pct: 200 },
    ]);
  });

  it('leaves Δ empty without a reference value', () => {
    const [g] = groupDeltas({
      experiments: [run('a', 1, 1)],
      groups: [{ id: 'g', label: 'x', ids: ['a'], color: '#000' }],
      referenceId: 'missing',
      metric: 'loss',
    });
    expect(g).toMatchObject({ mean: 1, delta: null, pct: null });
  });
});
