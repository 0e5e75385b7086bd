import { describe, expect, it } from 'vitest';
import { decodeOffset, encodeOffset } from './page-token.js';

describe('page tokens (one for Tora cursors and MLflow page tokens)', () => {
  it('reads back the offset it wrote, and 0 for no token', () => {
    for (const offset of [0, 1, 50, 1_000_000_000]) expect(decodeOffset(encodeOffset(offset))).toBe(offset);
    expect(decodeOffset(undefined)).toBe(0);
    expect(decodeOffset('')).toBe(0);
  });

  it('answers null for a token it did not issue', () => {
    const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const token of [
      'not-base64-json',
      forged({ o: -1 }),
      forged({ o: 1.5 }),
      forged({ o: 1_000_000_001 }),
      forged({ x: 1 }),
      forged(null),
    ]) {
      expect(decodeOffset(token), token).toBeNull();
    }
  });
});
