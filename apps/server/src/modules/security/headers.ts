import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/** `'sha256-…'` sources for every inline `<script>` (one without `src`) of an HTML document. */
function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script\s*>/gi)) {
    const attributes = match[1] ?? '';
    if (/\ssrc\s*=/i.test(attributes)) continue;
    hashes.push(
      `'sha256-${createHash('sha256')
        .update(match[2] ?? '', 'utf8')
        .digest('base64')}'`,
    );
  }
  return hashes;
}

/**
 * The inline-script hashes of every built page under `webDir`. The static adapter writes SvelteKit's
 * bootstrap (and our theme script from app.html) inline; hashing them at start lets the policy say
 * `script-src 'self'` plus exactly those scripts, never 'unsafe-inline'. A rebuilt web app needs a
 * restart (the server reads the pages once).
 */
function webScriptHashes(webDir: string | null): string[] {
  if (webDir === null) return [];
  const hashes = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.html')) for (const h of inlineScriptHashes(fs.readFileSync(full, 'utf8'))) hashes.add(h);
    }
  };
  walk(webDir);
  return [...hashes].sort();
}

/**
 * The Content-Security-Policy of every response. Styles allow 'unsafe-inline' because Svelte and
 * uPlot set style attributes at run time; scripts never do.
 */
function contentSecurityPolicy(scriptHashes: readonly string[]): string {
  return [
    "default-src 'self'",
    ['script-src', "'self'", ...scriptHashes].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Security headers on every response, API and web app alike (errors included). Referrer-Policy is
 * `same-origin`, not `no-referrer`: browsers send `Origin: null` on writes under `no-referrer`,
 * which the CSRF check would refuse.
 */
export function installSecurityHeaders(app: FastifyInstance, webDir: string | null): void {
  const headers = {
    'content-security-policy': contentSecurityPolicy(webScriptHashes(webDir)),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(headers);
    return payload;
  });
}
