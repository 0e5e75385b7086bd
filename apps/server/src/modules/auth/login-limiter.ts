import type { LoginThrottle } from '../../context.js';
/** One throttle: at most `max` failed logins per `windowMs` for each value of a key kind. */
export interface LimitRule {
  readonly max: number;
  readonly windowMs: number;
}

/** The key kinds a failed login counts against. */
type LimitKind = 'address' | 'accountAddress' | 'account';

export type LimitRules = Readonly<Record<LimitKind, LimitRule>>;

/**
 * Per client address (many users may share one); per account *and* address, so ten wrong guesses
 * from one place do not lock the owner out from another; and a slower ceiling per account over
 * all addresses, so a guesser with many addresses still gets few tries.
 */
export const LOGIN_LIMITS: LimitRules = {
  address: { max: 50, windowMs: 15 * 60_000 },
  accountAddress: { max: 10, windowMs: 15 * 60_000 },
  account: { max: 100, windowMs: 60 * 60_000 },
};

interface Counter {
  start: number;
  count: number;
}

/**
 * Failed-login throttle in memory, per app. Each key holds one fixed-window counter (two numbers,
 * not a list of times) and at most `maxKeys` keys are kept, the least recently failed dropped
 * first, so a flood of distinct addresses or e-mails cannot grow the process without bound.
 *
 * @example
 *   const limiter = new LoginLimiter(LOGIN_LIMITS);
 *   const keys = limiter.keysFor('a@example.com', '203.0.113.7');
 *   if (limiter.retryAfter(keys, now) > 0) refuse(); else if (!ok) limiter.recordFailure(keys, now);
 */
export class LoginLimiter implements LoginThrottle {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly rules: LimitRules,
    private readonly maxKeys = 50_000,
  ) {}

  /** The keys one login attempt counts against. */
  keysFor(email: string, address: string): string[] {
    return [`address:${address}`, `accountAddress:${email}\n${address}`, `account:${email}`];
  }

  /** How many keys are held (for the memory bound's test). */
  get size(): number {
    return this.counters.size;
  }

  private ruleOf(key: string): LimitRule {
    return this.rules[key.slice(0, key.indexOf(':')) as LimitKind];
  }

  private live(key: string, now: number): Counter | null {
    const counter = this.counters.get(key);
    if (!counter) return null;
    if (now - counter.start >= this.ruleOf(key).windowMs) {
      this.counters.delete(key);
      return null;
    }
    return counter;
  }

  /** Seconds until the caller may try again, or 0 when allowed. */
  retryAfter(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const counter = this.live(key, now);
      const rule = this.ruleOf(key);
      if (counter && counter.count >= rule.max) {
        wait = Math.max(wait, Math.ceil((counter.start + rule.windowMs - now) / 1000));
      }
    }
    return wait;
  }

  recordFailure(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const counter = this.live(key, now) ?? { start: now, count: 0 };
      counter.count += 1;
      // Re-inserting keeps the Map in least-recently-failed order for eviction.
      this.counters.delete(key);
      this.counters.set(key, counter);
    }
    while (this.counters.size > this.maxKeys) {
      const oldest = this.counters.keys().next().value;
      if (oldest === undefined) break;
      this.counters.delete(oldest);
    }
  }

  reset(key: string): void {
    this.counters.delete(key);
  }
}
