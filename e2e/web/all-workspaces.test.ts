/**
 * "All workspaces" in the workspace selector: one dashboard over every workspace the user can read.
 * Each row names its workspace; search, sort and grouping work across them; another user's
 * workspace never shows; actions that need one workspace wait for a pick.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiSession, launchBrowser, screenshot, signedInPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let alice = '';

async function call(cookie: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}/api${path}`, {
    method,
    headers: { cookie, origin: server.url, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function workspace(cookie: string, name: string): Promise<string> {
  return ((await (await call(cookie, 'POST', '/workspaces', { name })).json()) as { id: string }).id;
}

async function experiment(cookie: string, workspaceId: string, name: string, group: string): Promise<void> {
  const res = await call(cookie, 'POST', '/experiments', { name, workspaceId, group, status: 'finished' });
  assert.equal(res.status, 201);
}

before(async () => {
  server = await startServer({ TORA_ALLOW_SIGNUP: 'true' });
  alice = await apiSession(server.url, 'alice@example.com', 'correct horse battery');
  const bob = await apiSession(server.url, 'bob@example.com', 'correct horse battery');
  const vision = await workspace(alice, 'Vision');
  const nlp = await workspace(alice, 'NLP');
  const bobs = await workspace(bob, 'Bob private');
  const shared = await workspace(bob, 'Bob shared');
  await call(bob, 'POST', `/workspaces/${shared}/members`, { email: 'alice@example.com', role: 'viewer' });
  await experiment(alice, vision, 'resnet-a', 'sweep');
  await experiment(alice, vision, 'resnet-b', 'sweep');
  await experiment(alice, nlp, 'bert-a', 'sweep');
  await experiment(bob, shared, 'shared-c', 'solo');
  await experiment(bob, bobs, 'secret-d', 'sweep');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const rows = (page: Page) =>
  page
    .getByTestId('experiment-row')
    .evaluateAll((els) =>
      els.map((r) => [
        r.querySelector('.name a')?.textContent?.trim(),
        r.querySelector('[data-testid="row-workspace"]')?.textContent,
      ]),
    );

test('all workspaces: every readable run with its workspace, sorted, searched and grouped across them', async () => {
  const { context, page } = await signedInPage(browser, server.url, alice);
  await page.goto(server.url);
  // Alice's own Default workspace is empty; the switcher offers all of hers.
  await page.getByTestId('workspace-switcher').locator('option[value="all"]').waitFor({ state: 'attached' });
  const asked = page.waitForRequest((r) => r.url().includes('/api/experiments?') && !r.url().includes('workspace='));
  await page.getByTestId('workspace-switcher').selectOption('all');
  await asked;
  await page.getByRole('heading', { name: 'Experiments in all workspaces' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 4);
  assert.deepEqual((await rows(page)).sort(), [
    ['bert-a', 'NLP'],
    ['resnet-a', 'Vision'],
    ['resnet-b', 'Vision'],
    ['shared-c', 'Bob shared'],
  ]);
  // Creating needs one workspace; row and bulk edits too.
  assert.equal(await page.getByRole('button', { name: 'New experiment' }).isDisabled(), true);
  assert.equal(await page.getByTestId('experiment-row').first().getByRole('button').count(), 0);
  await screenshot(page, 'all-workspaces-light');

  await page.getByLabel('Search by name or filter').fill('resnet');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  await page.getByLabel('Search by name or filter').fill('');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 4);

  await page.getByRole('button', { name: /^Name/ }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="experiment-row"] .name a')?.textContent?.trim() === 'bert-a',
  );
  assert.deepEqual(
    (await rows(page)).map((r) => r[0]),
    ['bert-a', 'resnet-a', 'resnet-b', 'shared-c'],
  );

  await page.getByTestId('group-by').selectOption('group');
  const groups = page.getByTestId('group-row');
  await groups.first().waitFor();
  const counts = await groups.evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-value'), e.querySelector('[data-testid="group-run-count"]')?.textContent?.trim()]),
  );
  assert.deepEqual(counts.sort(), [
    ['solo', '1'],
    ['sweep', '3'],
  ]);
  // The URL keeps the view: a reload shows all workspaces again.
  assert.match(page.url(), /ws=all/);
  await page.reload();
  await page.getByRole('heading', { name: 'Experiments in all workspaces' }).waitFor();
  // Pages about one workspace ask for a pick instead of showing one.
  await page.getByRole('link', { name: 'Models' }).click();
  await page.getByTestId('pick-workspace').waitFor();
  await page.getByRole('link', { name: 'Workspaces' }).click();
  await page.getByTestId('pick-workspace').waitFor();
  await context.close();

  for (const [name, opts] of [
    ['all-workspaces-dark', { colorScheme: 'dark' as const }],
    ['all-workspaces-phone', { width: 390, height: 844 }],
  ] as const) {
    const { context: c, page: p } = await signedInPage(browser, server.url, alice, opts);
    await p.goto(`${server.url}/?ws=all`);
    await p.getByTestId('row-workspace').first().waitFor();
    await screenshot(p, name);
    await c.close();
  }
});
