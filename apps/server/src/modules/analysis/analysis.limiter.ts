const HOUR_MS = 3_600_000;

/**
 * Per-user budget of LLM provider calls over a sliding hour (TORA_AI_CALLS_PER_HOUR): each HTTP
 * request to the provider, a retry included, takes one. In memory, one per app (built with the
 * routes, like the result cache), so several servers each keep their own budget.
 *
 * @example
 *   const limiter = new ProviderCallLimiter(30);
 *   if (!limiter.take(caller.userId, ctx.clock())) throw tooMany(limiter.retryAfter(caller.userId, ctx.clock()));
 */
export class ProviderCallLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(
    readonly perHour: number,
    private readonly windowMs = HOUR_MS,
  ) {}

  private recent(userId: string, now: number): number[] {
    const times = (this.calls.get(userId) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length === 0) this.calls.delete(userId);
    else this.calls.set(userId, times);
    return times;
  }

  /** Takes one call for `userId` at `now`; false, taking nothing, when the budget is spent. Synchronous, so concurrent requests cannot overdraw it. */
  take(userId: string, now: number): boolean {
    const times = this.recent(userId, now);
    if (times.length >= this.perHour) return false;
    times.push(now);
    this.calls.set(userId, times);
    return true;
  }

  /** Whole seconds until `userId` may call again; 0 when a call is available now. */
  retryAfter(userId: string, now: number): number {
    const times = this.recent(userId, now);
    if (times.length < this.perHour) return 0;
    const oldest = times[times.length - this.perHour]!;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }
}
