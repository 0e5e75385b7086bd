import type { Kysely } from 'kysely';
import type { LoginThrottle } from '../../context.js';
import type { DB } from '../../db/schema.js';
import { sha256Hex } from '../../lib/crypto.js';
import * as repo from './auth.repository.js';

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

/** How long the longest of these windows lasts: counters older than it count for nothing. */
export function longestWindowMs(rules: LimitRules): number {
  return Math.max(...Object.values(rules).map((rule) => rule.windowMs));
}

/**
 * Failed-login throttle kept in the database, so its limits hold across every server of a
 * deployment (N replicas never allow N× the guesses). Each key is one fixed-window counter (a start
 * and a count) under a hashed name; counters whose window has passed are pruned as failures come,
 * so the table holds at most the last hour's failing addresses and accounts.
 *
 * @example
 *   const limiter = new LoginLimiter(db, LOGIN_LIMITS);
 *   const keys = limiter.keysFor('a@example.com', '203.0.113.7');
 *   if ((await limiter.retryAfter(keys, now)) > 0) refuse(); else if (!ok) await limiter.recordFailure(keys, now);
 */
export class LoginLimiter implements LoginThrottle {
  private readonly longestWindowMs: number;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly rules: LimitRules,
  ) {
    this.longestWindowMs = longestWindowMs(rules);
  }

  /** The keys one login attempt counts against. */
  keysFor(email: string, address: string): string[] {
    return [
      `address:${sha256Hex(address)}`,
      `accountAddress:${sha256Hex(`${email}\n${address}`)}`,
      `account:${sha256Hex(email)}`,
    ];
  }

  private ruleOf(key: string): LimitRule {
    return this.rules[key.slice(0, key.indexOf(':')) as LimitKind];
  }

  /** Seconds until the caller may try again, or 0 when allowed. */
  async retryAfter(keys: readonly string[], now: number): Promise<number> {
    let wait = 0;
    for (const counter of await repo.findLoginFailures(this.db, keys)) {
      const rule = this.ruleOf(counter.key);
      const start = Number(counter.window_start);
      if (now - start < rule.windowMs && counter.count >= rule.max) {
        wait = Math.max(wait, Math.ceil((start + rule.windowMs - now) / 1000));
      }
    }
    return wait;
  }

  async recordFailure(keys: readonly string[], now: number): Promise<void> {
    for (const key of keys) await repo.addLoginFailure(this.db, key, now, this.ruleOf(key).windowMs);
    await repo.pruneLoginFailures(this.db, now - this.longestWindowMs);
  }

  async reset(key: string): Promise<void> {
    await repo.deleteLoginFailure(this.db, key);
  }
}
