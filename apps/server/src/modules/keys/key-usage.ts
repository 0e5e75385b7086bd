import type { KeyUsage } from '../../context.js';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { setKeyLastUsed } from './keys.repository.js';

/**
 * Coalesces "last used" updates of API keys: a request only records the time in memory; the
 * times are written at most once per interval, so a training loop's requests cost no writes.
 */
export class KeyUsageTracker implements KeyUsage {
  private readonly pending = new Map<string, number>();
  private readonly lastWritten = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush().catch(this.onError), this.intervalMs);
    this.timer.unref();
  }

  /** Records a use; written at the next flush unless one was written within the interval. */
  touch(keyId: string, now: number): void {
    const written = this.lastWritten.get(keyId);
    if (written !== undefined && now - written < this.intervalMs) return;
    this.pending.set(keyId, now);
  }

  lastUse(keyId: string): number | undefined {
    return this.pending.get(keyId);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [id, at] of batch) {
      await setKeyLastUsed(this.db, id, at);
      this.lastWritten.set(id, at);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
