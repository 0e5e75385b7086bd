import net from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

/**
 * The host name a Host header names (lowercase, IPv6 without brackets), or null when it is not a
 * valid `host[:port]`.
 */
function hostnameOf(hostHeader: string): string | null {
  if (hostHeader === '' || /[\s/?#@\\]/.test(hostHeader)) return null;
  try {
    const hostname = new URL(`http://${hostHeader}`).hostname.toLowerCase();
    return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  } catch {
    return null;
  }
}

/**
 * Whether a Host header may be served. Loopback names and IP literals always may (a page can only
 * name an IP by being served from it, so DNS rebinding needs a name); other names only when listed
 * in TORA_ALLOWED_HOSTS (`.example.com` admits subdomains, `*` anything) or TORA_PUBLIC_URL.
 *
 * @example
 *   isAllowedHost('tora.example.com:443', ['tora.example.com']); // true
 *   isAllowedHost('rebind.evil.example', []); // false
 */
function isAllowedHost(hostHeader: string, allowed: readonly string[]): boolean {
  const hostname = hostnameOf(hostHeader);
  if (hostname === null) return false;
  if (hostname === 'localhost' || hostname.endsWith('.localhost') || net.isIP(hostname) !== 0) return true;
  return allowed.some((entry) => {
    if (entry === '*') return true;
    if (entry.startsWith('.')) return hostname === entry.slice(1) || hostname.endsWith(entry);
    return hostname === entry.replace(/^\[|\]$/g, '');
  });
}

/** Refuses, before anything else runs, every request whose Host this server is not configured to answer to. */
export function installHostCheck(app: FastifyInstance, config: Config): void {
  app.addHook('onRequest', async (request) => {
    // request.host is the Host header, or X-Forwarded-Host from a trusted proxy.
    if (isAllowedHost(request.host, config.allowedHosts)) return;
    throw new AppError(
      'HOST_NOT_ALLOWED',
      421,
      'This server does not answer to that host name; its administrator can add it to TORA_ALLOWED_HOSTS or TORA_PUBLIC_URL',
    );
  });
}

/**
 * The origin for links the server hands out (the client's install command): TORA_PUBLIC_URL, else
 * the request's own when its Host surely names this server (a loopback name, the address the
 * connection came in on, or a name TORA_ALLOWED_HOSTS lists other than `*`), else loopback. Any
 * other Host is the caller's choice, and a cached answer must not send others to it.
 */
export function publicOrigin(request: FastifyRequest, config: Config): string {
  if (config.publicUrl !== null) return config.publicUrl;
  const hostname = hostnameOf(request.host);
  if (hostname !== null) {
    const local = (request.socket.localAddress ?? '').replace(/^::ffff:/, '');
    const named =
      net.isIP(hostname) === 0
        ? isAllowedHost(
            request.host,
            config.allowedHosts.filter((h) => h !== '*'),
          )
        : false;
    if (hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === local || named) {
      return `${request.protocol}://${request.host}`;
    }
  }
  return `http://localhost:${config.port}`;
}
