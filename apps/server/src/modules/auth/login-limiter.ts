/**
 * Failed-login throttle per account (`email:` keys) and per client IP (`ip:` keys, a higher
 * limit since many users may share an address): after that many failures inside `windowMs`,
 * further attempts are refused (429) until the window passes. In memory, per app.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxPerAccount: number,
    private readonly maxPerIp: number,
    private readonly windowMs: number,
  ) {}

  private maxFor(key: string): number {
    return key.startsWith('ip:') ? this.maxPerIp : this.maxPerAccount;
  }

  private recent(key: string, now: number): number[] {
    const times = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  /** Seconds until the caller may try again, or 0 when allowed. */
  retryAfter(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const times = this.recent(key, now);
      const max = this.maxFor(key);
      if (times.length >= max) {
        const oldest = times[times.length - max] ?? now;
        wait = Math.max(wait, Math.ceil((oldest + this.windowMs - now) / 1000));
      }
    }
    return wait;
  }

  recordFailure(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const times = this.recent(key, now);
      times.push(now);
      this.failures.set(key, times);
    }
  }

  reset(key: string): void {
    this.failures.delete(key);
  }
}
