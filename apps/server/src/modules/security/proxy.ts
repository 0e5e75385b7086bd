import type { TrustProxy } from '../../config.js';

/**
 * Fastify's `trustProxy` for our setting. A hop count becomes a function: Fastify fails closed on
 * a bare number (it then believes no X-Forwarded-* at all), while `(addr, i) => i < hops` believes
 * exactly the last `hops` entries of the chain, so a client's own X-Forwarded-For is never taken
 * as its address.
 */
export function fastifyTrustProxy(setting: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === false) return false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return [...setting];
}
