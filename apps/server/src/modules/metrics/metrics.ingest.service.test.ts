import { describe, expect, it } from 'vitest';
import { fingerprint, legacyFingerprint, parseBatch } from './ingest.js';
import { fillMissing } from './metrics.ingest.service.js';

describe('fillMissing', () => {
  it('fills missing steps and times in the parsed columns themselves, again from the new last step on a retry', () => {
    const batch = parseBatch(
      { series: { x: { steps: [null, 10, null, 3, null], values: [1, 2, 3, 4, 5], times: [7, null, null, 8, 9] } } },
      undefined,
    );
    const s = batch.series.get('x')!;
    const before = [batch.fingerprint, legacyFingerprint(batch.series)];
    const filled = fillMissing(s, 4, 1000);
    expect(filled.steps).toBe(s.steps);
    expect([...s.steps]).toEqual([5, 10, 11, 3, 12]);
    expect([...s.times]).toEqual([7, 1000, 1000, 8, 9]);
    // A retried transaction: another writer moved the series on meanwhile.
    fillMissing(s, 20, 1000);
    expect([...s.steps]).toEqual([21, 10, 22, 3, 23]);
    // Both fingerprints still read the filled steps as "missing".
    expect(legacyFingerprint(batch.series)).toBe(before[1]);
    const times = s.times.slice();
    s.times.set([7, NaN, NaN, 8, 9]);
    expect(fingerprint(batch.series)).toBe(before[0]);
    s.times.set(times);
  });

  it('leaves given steps as they are', () => {
    const s = parseBatch({ series: { x: { steps: [3, 1], values: [1, 2] } } }, undefined).series.get('x')!;
    expect([...fillMissing(s, 50, 0).steps]).toEqual([3, 1]);
  });
});
