import { describe, expect, it } from 'vitest';
import { metricInput, toBatch } from './mlflow.logging.service.js';

describe('toBatch', () => {
  it('names a log-batch by the fingerprint the server gave it before points were parsed into Float64Array columns', () => {
    // Computed at commit cfea50a: a retried MLflow request logged then must still be stored once.
    const batch = toBatch(
      [
        { key: 'loss', value: 0.5, timestamp: 1764000000000, step: 0 },
        { key: 'acc', value: 'NaN', timestamp: '1764000000001', step: '3' },
        { key: 'loss', value: '-Infinity', timestamp: 1764000000002 },
        { key: 'loss', value: '1e3', timestamp: 5, step: 2 },
      ].map((m) => metricInput(m)),
    );
    expect(batch.fingerprint).toBe('v2:Yl0aILzTf9lvMw3rSrMh9sgQvuEVmn_rbL_kqlO5bd8');
    expect(batch.batchId).toBe(`mlflow:${batch.fingerprint}`);
    expect(batch.count).toBe(4);
    expect([...batch.series.get('loss')!.steps]).toEqual([0, 0, 2]);
    expect([...batch.series.get('loss')!.values]).toEqual([0.5, -Infinity, 1000]);
  });
});

describe('metricInput', () => {
  it("refuses names a file path reads as another, as MLflow's path_not_unique does", () => {
    for (const key of ['a/../b', './a', 'a/./b', 'a//b', 'a/']) {
      expect(() => metricInput({ key, value: 1, timestamp: 1 }), key).toThrow(/must not resolve to other names/);
    }
    for (const key of ['val/loss', 'a.b', 'a..b', '/abs', 'train/acc@1']) {
      expect(metricInput({ key, value: 1, timestamp: 1 }).key, key).toBe(key);
    }
  });
});
