/**
 * The dashboard grouped by a hyperparameter in a real browser: a sweep of 4 learning rates × 2
 * seeds shows one row per learning rate with its run count and mean ± std of the loss column
 * (checked against the values logged), kept in the URL; a row expands to its runs. Screenshots in
 * light, dark and phone width.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiSession, keyClient, launchBrowser, screenshot, signedInPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let cookie: string;
const LRS = [0.1, 0.01, 0.001, 0.0001];
const lastLoss = (lr: number, seed: number) => 0.2 + lr * 5 + seed / 100;

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'groups@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'groups' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  for (const lr of LRS) {
    for (const seed of [1, 2]) {
      const e = await client.createExperiment({ name: `lr${lr}-s${seed}`, group: 'sweep', hyperparams: { lr, seed } });
      await client.logSeries(e.id, { loss: { steps: [0, 1, 2], values: [2, 1, lastLoss(lr, seed)] } });
    }
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('grouping the dashboard by lr shows count and mean ± std per group, in the URL, and expands to runs', async () => {
  const { context, page } = await signedInPage(browser, server.url, cookie);
  await page.goto(`${server.url}/`);
  await page.getByTestId('group-by').selectOption('params.lr');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-row"]').length === 4);
  assert.match(page.url(), /[?&]by=params\.lr/);
  const rows = page.getByTestId('group-row');
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.value)), [
    '0.0001',
    '0.001',
    '0.01',
    '0.1',
  ]);
  // lr 0.1: last losses 0.71 and 0.72 → mean 0.715 ± 0.005.
  const cell = page.locator('[data-testid="group-row"][data-value="0.1"] [data-testid="group-cell"][data-column="loss"]');
  const text = (await cell.textContent()) ?? '';
  const mean = (lastLoss(0.1, 1) + lastLoss(0.1, 2)) / 2;
  assert.match(text, new RegExp(mean.toString().slice(0, 5).replace('.', '\\.')), `cell "${text}"`);
  assert.match(text, /± 0\.005/);
  await screenshot(page, 'groups-dashboard-light');

  // Sort by the loss column's mean, largest first: lr 0.1 on top.
  await page.getByRole('button', { name: /loss/ }).click();
  await page.getByRole('button', { name: /loss/ }).click();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="group-row"]') as HTMLElement | null)?.dataset.value === '0.1',
  );
  assert.match(page.url(), /gsort=loss/);

  // Expand a group: its two runs, and a link comparing them.
  await page.locator('[data-testid="group-row"][data-value="0.01"] button').click();
  await page.getByTestId('group-runs').waitFor();
  assert.deepEqual((await page.getByTestId('group-runs').locator('a').allTextContents()).sort(), ['lr0.01-s1', 'lr0.01-s2']);
  assert.equal(await page.getByTestId('group-compare').count(), 1);

  // A reload keeps the grouping (the URL is the state).
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-row"]').length === 4);
  assert.equal(await page.getByTestId('group-by').inputValue(), 'params.lr');
  await context.close();
});

test('the grouped dashboard in dark and at phone width', async () => {
  for (const opts of [
    { name: 'dark', colorScheme: 'dark' as const },
    { name: 'phone', colorScheme: 'light' as const, width: 390, height: 844 },
  ]) {
    const { context, page } = await signedInPage(browser, server.url, cookie, opts);
    await page.goto(`${server.url}/?by=params.lr`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-row"]').length === 4);
    await page.locator('[data-testid="group-row"][data-value="0.001"] button').click();
    await page.getByTestId('group-runs').waitFor();
    await screenshot(page, `groups-dashboard-${opts.name}`);
    await context.close();
  }
});
