import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext, Caller } from '../../context.js';
import { AppError } from '../../errors.js';
import { sha256Hex } from '../../lib/crypto.js';
import { findKeyByHash } from '../keys/keys.repository.js';
import { findLiveSession } from './auth.repository.js';

export const SESSION_COOKIE = 'tora_session';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match?.[1]) return match[1].trim();
    // HTTP Basic with the key as password (MLFLOW_TRACKING_USERNAME/PASSWORD); the user name is ignored.
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth.trim());
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const password = decoded.slice(decoded.indexOf(':') + 1);
      if (decoded.includes(':') && password !== '') return password;
    }
  }
  return null;
}

function originOf(request: FastifyRequest): string | null {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') return origin;
  const referer = request.headers.referer;
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin;
    } catch {
      return null;
    }
  }
  return null;
}

/** `scheme://host[:port]` with default ports dropped, or null for anything that is not an http(s) origin. */
function normalizedOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * Cookie-authenticated writes must come from our own origin — same scheme, host and port as this
 * request (the scheme is https only on TLS or behind a trusted proxy) — or from TORA_PUBLIC_URL or a
 * TORA_TRUSTED_ORIGINS entry.
 */
export function assertSameOrigin(ctx: AppContext, request: FastifyRequest): void {
  const raw = originOf(request);
  const origin = raw === null ? null : normalizedOrigin(raw);
  const own = normalizedOrigin(`${request.protocol}://${request.host}`);
  const ok = origin !== null && (origin === own || origin === ctx.config.publicUrl || ctx.config.trustedOrigins.includes(origin));
  if (!ok) {
    throw new AppError('CSRF_REJECTED', 403, 'Cross-site request refused: the Origin header does not match this server');
  }
}

/** Resolves who is calling from an API key or a session cookie. A bad key is a 401, never anonymous. */
export function installCallerHook(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/') && !request.url.startsWith('/ajax-api/')) return;
    const key = presentedKey(request);
    if (key !== null) {
      const row = await findKeyByHash(ctx.db, sha256Hex(key));
      if (!row || row.revoked_at !== null) {
        throw new AppError('INVALID_API_KEY', 401, row ? 'This API key has been revoked' : 'Unknown API key');
      }
      const now = ctx.clock();
      if (row.expires_at !== null && row.expires_at <= now) {
        throw new AppError('INVALID_API_KEY', 401, 'This API key has expired');
      }
      ctx.keyUsage.touch(row.id, now);
      request.caller = { userId: row.user_id, via: 'api_key', keyId: row.id, readOnly: row.scope === 'read' };
      return;
    }
    const token = request.cookies[SESSION_COOKIE];
    if (!token) return;
    const session = await findLiveSession(ctx.db, sha256Hex(token), ctx.clock());
    if (!session) return;
    if (UNSAFE_METHODS.has(request.method)) assertSameOrigin(ctx, request);
    request.caller = { userId: session.user_id, via: 'session', sessionId: session.id };
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A POST that only reads (compare, analysis): open to read-only API keys. */
    readsOnly?: boolean;
  }
}

/** A read-only key may read, and nothing else: every other write is a 403 before the handler runs. */
export function installReadOnlyGuard(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (!request.caller?.readOnly || !UNSAFE_METHODS.has(request.method)) return;
    if (request.routeOptions.config.readsOnly === true) return;
    throw new AppError('FORBIDDEN', 403, 'This API key is read-only');
  });
}

export function requireCaller(request: FastifyRequest): Caller {
  if (!request.caller) throw new AppError('UNAUTHORIZED', 401, 'Sign in or send an API key (x-api-key header)');
  return request.caller;
}
