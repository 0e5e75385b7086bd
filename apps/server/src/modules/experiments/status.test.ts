import { describe, expect, it } from 'vitest';
import { crashedBefore, effectiveStatus } from './status.js';

describe('the crashed rule (experiments/status.ts)', () => {
  const ctx = { clock: () => 1_000_000, config: { crashAfterSeconds: 60 } } as Parameters<typeof effectiveStatus>[0];

  it('makes a running experiment silent past the timeout crashed, and nothing else', () => {
    expect(crashedBefore(ctx)).toBe(940_000);
    expect(effectiveStatus(ctx, { status: 'running', lastActivityAt: 940_000 })).toBe('running');
    expect(effectiveStatus(ctx, { status: 'running', lastActivityAt: 939_999 })).toBe('crashed');
    expect(effectiveStatus(ctx, { status: 'finished', lastActivityAt: 0 })).toBe('finished');
    expect(effectiveStatus(ctx, { status: 'failed', lastActivityAt: 0 })).toBe('failed');
  });
});
