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
    expect(batch.series.get('a')).toEqual({
      steps: Float64Array.of(NaN, 7),
      values: Float64Array.of(1, 2),
      times: Float64Array.of(NaN, NaN),
      metadata: [null, '{"k":1}'],
      missingSteps: Uint32Array.of(0),
    });
    expect(batch.series.get('b')?.values[0]).toBeNaN();
  });

  it('reads the columnar form and prefers the body batchId over the header', () => {
    const batch = parseBatch({ batchId: 'body', series: { x: { steps: [1, 2], values: [0.5, 'Infinity'] } } }, 'header');
    expect(batch.batchId).toBe('body');
    expect(batch.series.get('x')?.values).toEqual(Float64Array.of(0.5, Infinity));
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

  it('tells a given step -1 from a missing step, and keeps the fingerprint of batches without negative steps', () => {
    const given = parseBatch({ series: { x: { steps: [-1, -1], values: [1, 2] } } }, undefined);
    const missing = parseBatch({ series: { x: { steps: [-1, null], values: [1, 2] } } }, undefined);
    expect(given.fingerprint).not.toBe(missing.fingerprint);
    // No negative step: the places of missing steps are not hashed, as before negative steps were allowed.
    const before = parseBatch({ series: { x: { steps: [3, null], values: [1, 2] } } }, undefined);
    expect(before.fingerprint).toBe('v2:x-f8sYKEQtmrpTrxt-YI61SA3pffk86nlpQ5Ol2kS28');
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
    [[{ name: 'a', value: 1, step: -(2 ** 53) }], 'body.0.step'],
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

/** Base64 of little-endian float64s given as raw bits (to send NaNs with payloads). */
const bits = (hex: bigint[]): string => {
  const view = new DataView(new ArrayBuffer(hex.length * 8));
  hex.forEach((h, i) => view.setBigUint64(i * 8, h, true));
  return Buffer.from(view.buffer).toString('base64');
};
const f64 = (xs: number[]): string => Buffer.from(new Float64Array(xs).buffer).toString('base64');
const hex = (a: Float64Array): string[] => [...new BigUint64Array(a.slice().buffer)].map((b) => b.toString(16));

describe('parseBatch columns', () => {
  it('parses every form into one Float64Array per column, NaN where no step or time was given', () => {
    const rows = parseBatch(
      [
        { name: 'x', value: 1, step: 4, time: 10 },
        { name: 'x', value: 'NaN', step: null },
        { name: 'x', value: -2, time: 12.5 },
      ],
      undefined,
    );
    const json = parseBatch(
      { series: { x: { steps: [4, null, null], values: [1, 'NaN', -2], times: [10, null, 12.5] } } },
      undefined,
    );
    const binary = parseBatch(
      { series: { x: { stepsF64: f64([4, NaN, NaN]), valuesF64: f64([1, NaN, -2]), timesF64: f64([10, NaN, 12.5]) } } },
      undefined,
    );
    for (const batch of [rows, json, binary]) {
      const s = batch.series.get('x')!;
      expect(s.steps).toBeInstanceOf(Float64Array);
      expect([...s.steps]).toEqual([4, NaN, NaN]);
      expect([...s.values]).toEqual([1, NaN, -2]);
      expect([...s.times]).toEqual([10, NaN, 12.5]);
      expect([...s.missingSteps!]).toEqual([1, 2]);
      expect(batch.fingerprint).toBe(rows.fingerprint);
    }
    // A series that gives no steps at all, and one that gives every step.
    const none = parseBatch({ series: { x: { values: [1, 2] } } }, undefined).series.get('x')!;
    expect([...none.steps, ...none.times]).toEqual([NaN, NaN, NaN, NaN]);
    expect([...none.missingSteps!]).toEqual([0, 1]);
    expect(parseBatch({ series: { x: { steps: [0, 1], values: [1, 2] } } }, undefined).series.get('x')!.missingSteps).toBeNull();
  });

  it('keeps the value bits a binary column sends, quieting a signalling NaN as earlier servers did', () => {
    const s = parseBatch(
      {
        series: { x: { valuesF64: bits([0x3ff0000000000000n, 0xfff8000000000001n, 0x7ff4000000000000n, 0x8000000000000000n]) } },
      },
      undefined,
    ).series.get('x')!;
    expect(hex(s.values)).toEqual(['3ff0000000000000', 'fff8000000000001', '7ffc000000000000', '8000000000000000']);
  });

  it('takes base64 as the pattern does: its own encoding or not, but never the URL-safe alphabet or junk', () => {
    const one = (text: string) => parseBatch({ series: { x: { valuesF64: text } } }, undefined).series.get('x')!.values;
    expect([...one('AAAAAAAA8D8=')]).toEqual([1]);
    // The same bytes with the unused low bits of the last character set: not canonical, still base64.
    expect([...one('AAAAAAAA8D9=')]).toEqual([1]);
    for (const bad of ['AAAAAAAA8D-_', 'AAAAAAAA8D8!', 'AAAA AAA8D8=']) {
      expect(error(() => one(bad)).details).toEqual([expect.objectContaining({ path: 'body.series.x.valuesF64' })]);
    }
  });

  // Computed by the server before points were parsed into Float64Array columns (commit cfea50a):
  // a retry of a batch committed then must still be recognised as the same batch.
  it.each([
    [
      'rows',
      [
        { name: 'loss', value: 0.5, step: 0, time: 1764000000000.5 },
        { name: 'acc', value: 'NaN', step: null, metadata: { k: 1 } },
        { name: 'loss', value: 'Infinity', time: 1764000000001.5 },
        { name: 'loss', value: '-Infinity', step: 7, metadata: null },
        { name: 'acc', value: true, step: 2, time: 3 },
        { name: 'loss', value: -0, step: -0, time: -0 },
      ],
      'v2:9SVwJwUQFLw75j7gjMBlW1ey2LGdbSzKMsSe79CEfOU',
      'Y0XY_Bd7KHjaA1690M20ZKKyVUZ02gw7v73Y_soNbzE',
    ],
    [
      'columnar JSON',
      {
        batchId: 'b1',
        series: {
          loss: {
            steps: [0, null, 5],
            values: [1.25, 'NaN', -3],
            times: [null, 1764000000000.5, 12],
            metadata: [null, { a: 'b' }, null],
          },
          acc: { values: [0.1, 0.2] },
        },
      },
      'v2:GKAybQIrcLgx3uBzd1VQOrLYzNB2fvV7Y_uxRJnJ-O4',
      'R94eqhM8qre1XEN2qQB9lpSeKnNlGtMMiShwQ09BnSI',
    ],
    [
      'binary columns',
      {
        series: {
          loss: {
            stepsF64: f64([0, NaN, 9]),
            valuesF64: bits([0x3ff0000000000000n, 0xfff8000000000001n, 0x7ff0000000000000n]),
            timesF64: f64([1764000000000.5, NaN, 1764000000001.5]),
          },
        },
      },
      'v2:_F0PPEz9qQYqgYwoVk17_S5IMzlQ6Zb919ZwQBgVuEM',
      'CcnUF-8gzuKExI0jLD9FLpFBw4FySDjAFedBxmcDfcc',
    ],
    [
      'signalling NaNs',
      { series: { x: { valuesF64: bits([0xfff7fffffff7ffffn, 0x7ff4000000000000n, 0x7ff8000000000000n]) } } },
      'v2:iif28_UX2A7fG8ldIdqnyMUiCAeSwXE1Nnde2PE9Yv0',
      'jJPfZRyio9HEiZufjD92sryQ-iNYvVdx84EW5KCh0Vc',
    ],
  ])('fingerprints %s as the server before did', (_, body, v2, legacy) => {
    const batch = parseBatch(body, undefined);
    expect(batch.fingerprint).toBe(v2);
    expect(legacyFingerprint(batch.series)).toBe(legacy);
  });
});
