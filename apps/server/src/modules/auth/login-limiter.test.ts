import { describe, expect, it } from 'vitest';
import { LOGIN_LIMITS, LoginLimiter } from './login-limiter.js';

const MIN = 60_000;

describe('LoginLimiter', () => {
  it('ten failures for one account from one address block that pair only', () => {
    const limiter = new LoginLimiter(LOGIN_LIMITS);
    const attacker = limiter.keysFor('owner@example.com', '203.0.113.1');
    for (let i = 0; i < 10; i++) limiter.recordFailure(attacker, 0);
    expect(limiter.retryAfter(attacker, 1000)).toBe(15 * 60 - 1);
    expect(limiter.retryAfter(limiter.keysFor('owner@example.com', '198.51.100.2'), 1000)).toBe(0);
    expect(limiter.retryAfter(limiter.keysFor('other@example.com', '203.0.113.1'), 1000)).toBe(0);
    expect(limiter.retryAfter(attacker, 15 * MIN)).toBe(0);
  });

  it('fifty failures from one address block it for every account', () => {
    const limiter = new LoginLimiter(LOGIN_LIMITS);
    for (let i = 0; i < 50; i++) limiter.recordFailure(limiter.keysFor(`u${i}@example.com`, '203.0.113.1'), 0);
    expect(limiter.retryAfter(limiter.keysFor('fresh@example.com', '203.0.113.1'), 0)).toBeGreaterThan(0);
    expect(limiter.retryAfter(limiter.keysFor('fresh@example.com', '203.0.113.2'), 0)).toBe(0);
  });

  it('an account has a slower ceiling over all addresses: 100 failures an hour', () => {
    const limiter = new LoginLimiter(LOGIN_LIMITS);
    for (let i = 0; i < 100; i++) {
      const keys = limiter.keysFor('owner@example.com', `203.0.113.${i}`);
      expect(limiter.retryAfter(keys, i * 1000), `attempt ${i}`).toBe(0);
      limiter.recordFailure(keys, i * 1000);
    }
    const owner = limiter.keysFor('owner@example.com', '198.51.100.2');
    expect(limiter.retryAfter(owner, 100_000)).toBe(60 * 60 - 100);
    expect(limiter.retryAfter(owner, 60 * MIN)).toBe(0);
  });

  it('holds a bounded number of counters however many addresses and accounts fail', () => {
    const limiter = new LoginLimiter(LOGIN_LIMITS, 1000);
    for (let i = 0; i < 30_000; i++) {
      limiter.recordFailure(limiter.keysFor(`u${i}@example.com`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`), i);
    }
    expect(limiter.size).toBe(1000);
    // The most recent failures are the ones kept.
    const last = limiter.keysFor('u29999@example.com', '10.0.117.47');
    for (let i = 0; i < 9; i++) limiter.recordFailure(last, 30_000);
    expect(limiter.retryAfter(last, 30_000)).toBeGreaterThan(0);
  });

  it('forgets a window once it has passed', () => {
    const limiter = new LoginLimiter(LOGIN_LIMITS);
    limiter.recordFailure(limiter.keysFor('a@example.com', '203.0.113.1'), 0);
    expect(limiter.size).toBe(3);
    limiter.retryAfter(limiter.keysFor('a@example.com', '203.0.113.1'), 60 * MIN);
    expect(limiter.size).toBe(0);
  });
});
