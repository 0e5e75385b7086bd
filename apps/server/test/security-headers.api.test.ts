import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, useTestServer } from './harness.js';

const BOOTSTRAP = '\n  { window.started = true; }\n';
const THEME = "try { document.documentElement.dataset.theme = 'dark'; } catch {}";
const SHELL = `<!doctype html><html><head><script>${THEME}</script><script src="/_app/x.js"></script></head>
<body><div><script>${BOOTSTRAP}</script></div></body></html>`;

const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

function expectSecurityHeaders(res: LightMyRequestResponse): string {
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['referrer-policy']).toBe('same-origin');
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src')) ?? '';
  expect(scriptSrc.trim()).toMatch(/^script-src 'self'/);
  expect(scriptSrc).not.toContain('unsafe-inline');
  expect(scriptSrc).not.toContain('unsafe-eval');
  return scriptSrc;
}

describe.each(DIALECTS)('security headers on %s', (dialect) => {
  let webDir: string;
  beforeAll(() => {
    webDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-web-'));
    fs.writeFileSync(path.join(webDir, '200.html'), SHELL);
    fs.mkdirSync(path.join(webDir, 'nested'));
    fs.writeFileSync(path.join(webDir, 'nested', 'page.html'), '<script>nested()</script>');
  });
  afterAll(() => fs.rmSync(webDir, { recursive: true, force: true }));
  // Started after the web directory is written (hooks run in order).
  const server = useTestServer(dialect, () => ({ TORA_WEB_DIR: webDir }));

  it('the app shell allows exactly its own inline scripts by hash, never unsafe-inline', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/experiments/some-id' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(BOOTSTRAP);
    const scriptSrc = expectSecurityHeaders(res);
    expect(scriptSrc.trim().split(/\s+/).sort()).toEqual(
      ['script-src', "'self'", sha(THEME), sha(BOOTSTRAP), sha('nested()')].sort(),
    );
  });

  it.each([
    ['an API answer', 'GET', '/api/health', {}, 200],
    ['an API error', 'GET', '/api/experiments', {}, 401],
    ['a validation error', 'POST', '/api/auth/login', {}, 400],
    ['a refused host', 'GET', '/', { host: 'rebind.evil.example' }, 421],
    ['an unknown API route', 'GET', '/api/nope', {}, 404],
  ] as const)('%s carries them too', async (_what, method, url, headers, status) => {
    const res = await server.app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
    expect(res.statusCode).toBe(status);
    expectSecurityHeaders(res);
  });
});
