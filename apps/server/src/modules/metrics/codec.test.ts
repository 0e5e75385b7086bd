import { describe, expect, it } from 'vitest';
import { decode, encode, type Points } from './blocks.js';
import { decodeBlock, encodeBlock, isCoded } from './codec.js';

const N = 4096;
const T0 = 1_764_000_000_000;

/** Every bit of every column, so -0, NaN payloads and the last ulp all count. */
function bits(col: Float64Array): string {
  return Buffer.from(col.buffer, col.byteOffset, col.byteLength).toString('hex');
}

function points(steps: ArrayLike<number>, values: ArrayLike<number>, times: ArrayLike<number>): Points {
  return { steps: Float64Array.from(steps), values: Float64Array.from(values), times: Float64Array.from(times), metadata: null };
}

function roundTrip(p: Points): Points {
  const back = decode(encode(p), null);
  expect(bits(back.steps)).toBe(bits(p.steps));
  expect(bits(back.values)).toBe(bits(p.values));
  expect(bits(back.times)).toBe(bits(p.times));
  return back;
}

/** A float64 with the given raw bits (hi and lo words). */
function fromBits(hi: number, lo: number): number {
  const u = new Uint32Array(2);
  u[0] = lo;
  u[1] = hi;
  return new Float64Array(u.buffer)[0]!;
}

// Seeded, so a failure reproduces.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

/** The curves a training run logs, with the times a client sends (Python: fractional milliseconds). */
function realistic(): Record<string, Points> {
  const r = rng(7);
  const steps = range(N, (i) => i);
  const clientTimes = range(N, (i) => T0 + i * 37.5 + r() * 3 + r() / 7);
  const serverTimes = range(N, () => T0);
  return {
    'noisy loss': points(
      steps,
      range(N, (i) => 2.5 * Math.exp(-i / 1500) + 0.05 * r()),
      clientTimes,
    ),
    'cosine learning rate': points(
      steps,
      range(N, (i) => 5e-4 * (1 + Math.cos((Math.PI * i) / N))),
      clientTimes,
    ),
    accuracy: points(
      steps,
      range(N, (i) => Math.fround(0.5 + 0.45 * (1 - Math.exp(-i / 800)) + 0.02 * r())),
      serverTimes,
    ),
    'GPU utilisation': points(
      range(N, (i) => i * 10),
      range(N, () => Math.round(85 + 15 * r())),
      range(N, (i) => T0 + i * 10_000 + Math.round(r() * 20)),
    ),
  };
}

describe('coded metric blocks', () => {
  it('round-trips realistic curves bit for bit in at most 10 bytes per point of data', () => {
    for (const [name, p] of Object.entries(realistic())) {
      const data = encode(p);
      expect(isCoded(data), name).toBe(true);
      roundTrip(p);
      expect(data.byteLength / N, name).toBeLessThanOrEqual(10);
    }
  });

  it('keeps every bit pattern: NaN payloads, ±Infinity, -0, subnormals, extremes', () => {
    const specials = [
      NaN,
      fromBits(0x7ff80000, 1), // a NaN with a payload
      fromBits(0xfff80000, 0xdeadbeef),
      Infinity,
      -Infinity,
      -0,
      0,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      2 ** 53,
      -(2 ** 53) + 1,
      1e-300,
      0.1,
    ];
    const n = specials.length * 3;
    roundTrip(
      points(
        range(n, (i) => i),
        range(n, (i) => specials[i % specials.length]!),
        range(n, () => T0),
      ),
    );
  });

  it('keeps steps that are negative, fractional, huge or far apart, and times of any shape', () => {
    const r = rng(3);
    roundTrip(points([-5, -4, -1, 0, 3], [1, 2, 3, 4, 5], [T0, T0, T0 + 1, T0 - 1, 0]));
    roundTrip(points([0.5, 1.25, 2, 1e-9, 3.75], [1, 2, 3, 4, 5], [T0 + 0.1, T0 + 0.2, T0 + 0.3, T0, T0]));
    roundTrip(points([0, 2 ** 53 - 1, -(2 ** 53) + 1, 1, 2 ** 52], [0, 1, 2, 3, 4], [0, 2 ** 53, -1, 1e15, 1e-3]));
    roundTrip(
      points(
        range(1000, () => Math.floor(r() * 2 ** 53)),
        range(1000, r),
        range(1000, () => r() * 1e13),
      ),
    );
    roundTrip(points([-0, 1, 2], [-0, -0, -0], [-0, 0, -0]));
    roundTrip(points([7], [Math.PI], [T0 + 0.123]));
  });

  it('values that are whole numbers with big jumps, and random doubles, still round-trip', () => {
    const r = rng(11);
    const big = range(N, () => Math.round((r() - 0.5) * 2 ** 53));
    roundTrip(
      points(
        range(N, (i) => i),
        big,
        range(N, () => T0),
      ),
    );
    const noise = range(N, () => fromBits(Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)));
    roundTrip(
      points(
        range(N, (i) => i),
        noise,
        range(N, () => T0),
      ),
    );
  });

  it('reads blocks written in the packed layout (before the coded format) as before', () => {
    const p = realistic()['noisy loss']!;
    const packed = encode(p, 'packed');
    expect(packed.byteLength).toBe(N * 24);
    expect(isCoded(packed)).toBe(false);
    const back = decode(packed, null);
    expect(bits(back.values)).toBe(bits(p.values));
    // An unaligned copy, as a driver may hand it over.
    const unaligned = new Uint8Array(packed.byteLength + 1).subarray(1);
    unaligned.set(packed);
    expect(bits(decode(unaligned, null).steps)).toBe(bits(p.steps));
  });

  it('is less than half the packed layout on every realistic curve', () => {
    for (const [name, p] of Object.entries(realistic())) {
      expect(encodeBlock(p).byteLength, name).toBeLessThan(encode(p, 'packed').byteLength / 2);
    }
  });

  it('refuses a block of an unknown version instead of misreading it', () => {
    const data = encodeBlock(points([1, 2], [3, 4], [T0, T0]));
    data[8] = 99;
    expect(() => decodeBlock(data)).toThrow(/unknown format version 99/);
  });
});
