import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { pruneLoginFailures } from '../auth/auth.repository.js';
import { LOGIN_LIMITS, longestWindowMs } from '../auth/login-limiter.js';
import { deleteExpiredSessions, whileLeader } from './housekeeping.repository.js';

/** The advisory lock of the database housekeeping job (any constant no other lock of Tora uses). */
const HOUSEKEEPING_LOCK = 7203115;
const EVERY_MS = 3600 * 1000;
const LONGEST_LOGIN_WINDOW_MS = longestWindowMs(LOGIN_LIMITS);

/**
 * The database's periodic clean-up (expired sessions, failed-login counters past their window), once
 * across every server of a deployment: each server tries hourly, and only the one that takes the
 * lock does the work. Returns whether this server did it.
 */
export async function runHousekeeping(ctx: AppContext): Promise<boolean> {
  const now = ctx.clock();
  return whileLeader(ctx.db, ctx.dialect, HOUSEKEEPING_LOCK, async (db) => {
    await deleteExpiredSessions(db, now);
    await pruneLoginFailures(db, now - LONGEST_LOGIN_WINDOW_MS);
  });
}

/** Runs the housekeeping when the app is ready and hourly while it is up. */
export function scheduleHousekeeping(app: FastifyInstance, ctx: AppContext): void {
  let timer: NodeJS.Timeout | undefined;
  const run = () =>
    runHousekeeping(ctx).catch((err: unknown) => app.log.warn({ err }, 'housekeeping failed; retried in an hour'));
  app.addHook('onReady', async () => {
    await run();
    timer = setInterval(() => void run(), EVERY_MS).unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
