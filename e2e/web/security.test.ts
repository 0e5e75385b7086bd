/**
 * The web app under its security headers: every page renders (SvelteKit's inline bootstrap runs
 * under `script-src 'self'` plus hashes, no 'unsafe-inline') with no Content-Security-Policy
 * violation; the app cannot be framed; signup explains a common password.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { keyClient, launchBrowser, newPage, startServer, steps, waitForCharts, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const violations: string[] = [];

declare global {
  interface Window {
    __cspViolations?: string[];
  }
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser));
  page.setDefaultTimeout(10_000);
  // Reported both ways: the DOM event (what the page saw) and Chromium's console message.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations!.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply|frame|connect)/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(`pageerror: ${e.message}`));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function visit(path: string, ready: (p: Page) => Promise<unknown>): Promise<void> {
  const res = await page.goto(`${server.url}${path}`);
  assert.ok(res, path);
  const csp = res.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self' 'sha256-/, `${path}: ${csp}`);
  assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers()['x-content-type-options'], 'nosniff');
  await ready(page);
  const seen = await page.evaluate(() => window.__cspViolations ?? []);
  assert.deepEqual([...seen, ...violations], [], `CSP violations on ${path}`);
}

test('every page works under the Content-Security-Policy, with no violation reported', async () => {
  await visit('/', (p) => p.getByRole('heading', { name: 'Create the first account' }).waitFor());
  // Signup explains a common password with the server's message.
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel('Password').fill('12345678');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page
    .getByTestId('auth-error')
    .filter({ hasText: /too common/ })
    .waitFor();
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: /Experiments/ }).waitFor();

  const keyRes = await page.request.post(`${server.url}/api/keys`, {
    headers: { origin: server.url },
    data: { name: 'csp' },
  });
  assert.equal(keyRes.status(), 201);
  const client = keyClient(server.url, ((await keyRes.json()) as { key: string }).key);
  const a = await client.createExperiment({ name: 'csp-a', hyperparams: { lr: 0.1 } });
  const b = await client.createExperiment({ name: 'csp-b', hyperparams: { lr: 0.01 } });
  for (const [i, e] of [a, b].entries()) {
    await client.logSeries(e.id, { loss: { steps: steps(500), values: steps(500).map((s) => 1 / (1 + s) + i) } });
  }

  await visit('/', (p) => p.getByTestId('experiment-row').first().waitFor());
  await visit(`/experiments/${a.id}`, (p) => waitForCharts(p, ['loss']));
  await visit(`/compare?ids=${a.id},${b.id}`, (p) =>
    p.waitForFunction(() => (window.__toraCompare?.loss?.experiments.length ?? 0) === 2),
  );
  await visit('/keys', (p) => p.getByRole('heading', { name: 'API keys' }).waitFor());
  await visit('/settings/workspaces', (p) => p.getByRole('heading', { name: 'Workspaces', exact: true }).waitFor());
  await visit('/no-such-page', (p) => p.getByRole('heading', { name: 'Not found' }).waitFor());
  await page.request.post(`${server.url}/api/auth/logout`, { headers: { origin: server.url } });
  await visit('/login', (p) => p.getByRole('heading', { name: 'Log in to Tora' }).waitFor());
  await visit('/signup', (p) => p.getByRole('heading', { name: /Sign-up is closed|Create your account/ }).waitFor());
});

test('another site cannot frame the app', async () => {
  const framer = await context.newPage();
  const blocked: string[] = [];
  framer.on('console', (m) => blocked.push(m.text()));
  // An attacker's page (another origin: about:blank with a data URL frame parent) embedding Tora.
  await framer.setContent(`<iframe id="f" src="${server.url}/login" width="600" height="400"></iframe>`);
  await framer.waitForTimeout(1500);
  const frame = framer.frames().find((f) => f.url().startsWith(server.url));
  const rendered = frame ? await frame.locator('h1').count() : 0;
  assert.equal(rendered, 0, 'the login page rendered inside a foreign frame');
  assert.ok(
    blocked.some((t) => /frame-ancestors|X-Frame-Options/i.test(t)),
    `no frame refusal reported: ${blocked.join(' | ')}`,
  );
  await framer.close();
});
