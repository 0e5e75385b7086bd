/**
 * The web app's one API client (apps/web/src/lib/api.ts, typed from the generated OpenAPI paths)
 * against a real server: the server's own error message reaches the user, a server that cannot
 * be reached is said in words, and the query strings on the wire are the ones the server reads
 * (lists comma-joined, empty values left out).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiSession, keyClient, launchBrowser, signedInPage, startServer, steps, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let cookie = '';

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'client@example.com', 'correct horse battery');
  browser = await launchBrowser();
  ({ context, page } = await signedInPage(browser, server.url, cookie));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a request the server refuses shows the message the server sent', async () => {
  // What the server answers to a blank key name, asked directly.
  const direct = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: '' }),
  });
  assert.equal(direct.status, 400);
  const { error } = (await direct.json()) as { error: { code: string; message: string } };

  await page.goto(`${server.url}/keys`);
  await page.getByLabel('Key name').fill('   ');
  await page.getByRole('button', { name: 'Create key' }).click();
  assert.equal(await page.getByRole('alert').innerText(), error.message);
});

test('a server that cannot be reached is said in words, not as a stack trace', async () => {
  await context.route('**/api/keys', (route) => route.abort('connectionrefused'));
  try {
    await page.goto(`${server.url}/keys`);
    const toast = page.getByTestId('toast-error');
    await toast.waitFor();
    assert.match(await toast.innerText(), /Cannot reach the Tora server\. Check your connection and try again\./);
  } finally {
    await context.unroute('**/api/keys');
  }
});

test('list parameters go comma-joined and empty ones not at all', async () => {
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'client-test' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  const ids: string[] = [];
  for (const name of ['wire-a', 'wire-b']) {
    const e = await client.createExperiment({ name });
    ids.push(e.id);
    await client.logSeries(e.id, { loss: { steps: steps(50), values: steps(50).map((s) => 1 / (1 + s)) } });
  }
  const asked: URL[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/experiments/compare')) asked.push(new URL(r.url()));
  });
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  await page.waitForFunction(() => (window.__toraCompare?.loss?.draws ?? 0) > 0, null, { polling: 50 });
  const first = asked[0]!;
  assert.equal(first.searchParams.get('ids'), ids.join(','));
  assert.ok(Number(first.searchParams.get('budget')) >= 1);
  // No reference chosen, no axis asked: neither parameter is sent (not even empty).
  assert.equal(first.searchParams.has('referenceId'), false);
  assert.equal(first.searchParams.has('x'), false);
  assert.match(first.search, /ids=[^&]+%2C/);
});
