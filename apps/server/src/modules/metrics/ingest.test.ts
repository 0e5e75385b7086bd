import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { legacyFingerprint, parseBatch, sameContent } from './ingest.js';

function error(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('parseBatch', () => {
  it('groups rows by metric, keeping null steps and metadata aligned', () => {
    const batch = parseBatch(
      [
        { name: 'a', value: 1, step: null, metadata: null },
        { name: 'b', value: 'NaN', step: 3 },
        { name: 'a', value: 2, step: 7, metadata: { k: 1 } },
      ],
      undefined,
    );
    expect(batch.count).toBe(3);
    expect(batch.series.get('a')).toEqual({ steps: [null, 7], values: [1, 2], times: [null, null], metadata: [null, '{"k":1}'] });
    expect(batch.series.get('b')?.values[0]).toBeNaN();
  });

  it('reads the columnar form and prefers the body batchId over the header', () => {
    const batch = parseBatch({ batchId: 'body', series: { x: { steps: [1, 2], values: [0.5, 'Infinity'] } } }, 'header');
    expect(batch.batchId).toBe('body');
    expect(batch.series.get('x')?.values).toEqual([0.5, Infinity]);
  });

  it('gives the same fingerprint to the same points and another to different ones', () => {
    const a = parseBatch({ series: { x: { values: [1, 2] } } }, undefined);
    const b = parseBatch(
      [
        { name: 'x', value: 1 },
        { name: 'x', value: 2 },
      ],
      undefined,
    );
    const c = parseBatch({ series: { x: { values: [1, 3] } } }, undefined);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });

  it('tells batches apart by times and metadata too, and still recognises fingerprints stored before that', () => {
    const a = parseBatch({ series: { x: { values: [1, 2], times: [5, null] } } }, undefined);
    const sameAsA = parseBatch(
      [
        { name: 'x', value: 1, time: 5 },
        { name: 'x', value: 2, metadata: null },
      ],
      undefined,
    );
    const otherTime = parseBatch({ series: { x: { values: [1, 2], times: [6, null] } } }, undefined);
    const otherMeta = parseBatch({ series: { x: { values: [1, 2], times: [5, null], metadata: [null, { k: 1 }] } } }, undefined);
    expect(sameAsA.fingerprint).toBe(a.fingerprint);
    expect(new Set([a.fingerprint, otherTime.fingerprint, otherMeta.fingerprint]).size).toBe(3);
    // A batch committed by an older server kept a fingerprint of names, steps and values only.
    expect(sameContent(legacyFingerprint(otherTime.series), a)).toBe(true);
    expect(sameContent(legacyFingerprint(parseBatch({ series: { x: { values: [1, 3] } } }, undefined).series), a)).toBe(false);
    expect(sameContent(a.fingerprint, otherTime)).toBe(false);
  });

  it('compares times to the millisecond: a retry in JSON (times rounded half to even) matches the binary original', () => {
    const f64 = (xs: number[]) => Buffer.from(new Float64Array(xs).buffer).toString('base64');
    const exact = [1_764_000_000_123.4, 1_764_000_000_124.5, 1_764_000_000_125.5, 1_764_000_000_126.6];
    const binary = parseBatch({ series: { x: { valuesF64: f64([1, 2, 3, 4]), timesF64: f64(exact) } } }, undefined);
    const json = parseBatch(
      {
        series: {
          x: { values: [1, 2, 3, 4], times: [1_764_000_000_123, 1_764_000_000_124, 1_764_000_000_126, 1_764_000_000_127] },
        },
      },
      undefined,
    );
    expect(json.fingerprint).toBe(binary.fingerprint);
    const moved = parseBatch(
      {
        series: {
          x: { values: [1, 2, 3, 4], times: [1_764_000_000_123, 1_764_000_000_125, 1_764_000_000_126, 1_764_000_000_127] },
        },
      },
      undefined,
    );
    expect(moved.fingerprint).not.toBe(binary.fingerprint);
  });

  it.each([
    [[{ name: '', value: 1 }], 'body.0.name'],
    [[{ name: 'a', value: '1' }], 'body.0.value'],
    [[{ name: 'a', value: 1, step: -1 }], 'body.0.step'],
    [[{ name: 'a', value: 1, step: 1.5 }], 'body.0.step'],
    [[{ name: 'a', value: 1, extra: true }], 'body.0.extra'],
    [{ series: { a: { values: [1], steps: [1, 2] } } }, 'body.series.a.steps'],
    [{ series: [] }, 'body.series'],
  ])('names the bad field of %j', (body, path) => {
    const err = error(() => parseBatch(body, undefined));
    expect(err.status).toBe(400);
    expect(err.details).toEqual([expect.objectContaining({ path })]);
  });

  it('refuses deep metadata with 400 and large metadata with 413', () => {
    const root: Record<string, unknown> = {};
    let deep = root;
    for (let i = 0; i < 100; i++) {
      const child: Record<string, unknown> = {};
      deep.a = child;
      deep = child;
    }
    expect(error(() => parseBatch([{ name: 'a', value: 1, metadata: root }], undefined)).status).toBe(400);
    expect(error(() => parseBatch([{ name: 'a', value: 1, metadata: { s: 'x'.repeat(5000) } }], undefined)).status).toBe(413);
  });
});

describe('metric name rules (the Python client applies the same: clients/python/src/tora/_wire.py)', () => {
  it('counts the length limit in code points, not UTF-16 units', () => {
    const emoji = '😀'.repeat(256); // 512 UTF-16 units, 256 code points
    expect(parseBatch([{ name: emoji, value: 1 }], undefined).series.has(emoji)).toBe(true);
    expect(error(() => parseBatch([{ name: `${emoji}x`, value: 1 }], undefined)).status).toBe(400);
  });

  it('refuses a name with a lone surrogate', () => {
    const err = error(() => parseBatch({ series: { 'a\ud800b': { values: [1] } } }, undefined));
    expect(err.status).toBe(400);
    expect(err.details).toEqual([expect.objectContaining({ path: 'body.series.a\ud800b' })]);
  });
});
