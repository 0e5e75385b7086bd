/**
 * Compare with more metrics than one read shows: the user's metrics come first, system/* last in
 * a closed section; the page says "Showing 20 of 43 metrics" and offers the rest; a metric picker
 * chooses which to chart.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  keyClient,
  launchBrowser,
  screenshot,
  signedInPage,
  startServer,
  steps,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const ids: string[] = [];

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'compare-metrics@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cm' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  // 35 user metrics and 8 system samples: 43, of which a default read shows 20.
  const series: Record<string, { steps: number[]; values: number[] }> = {};
  for (let i = 0; i < 35; i++)
    series[`train/m${String(i).padStart(2, '0')}`] = { steps: steps(20), values: steps(20).map((s) => s * i) };
  for (let i = 0; i < 8; i++) series[`system/gpu${i}`] = { steps: steps(20), values: steps(20).map(() => 50) };
  for (const name of ['a', 'b']) {
    const e = await client.createExperiment({ name, status: 'finished' });
    ids.push(e.id);
    await client.logSeries(e.id, series);
  }
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const chartNames = (sel: string) =>
  page.locator(`${sel} [data-testid="compare-chart"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));

test('user metrics first, system/* collapsed, "showing 20 of 43" and a control for the rest', async () => {
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  await page.getByTestId('charts-capped').waitFor();
  assert.match(await page.getByTestId('charts-capped').innerText(), /Showing 20 of 43 metrics/);
  const first = await chartNames('[data-testid="compare-grid"]');
  assert.equal(first.length, 20);
  assert.ok(
    first.every((n) => n!.startsWith('train/')),
    first.join(),
  );
  await screenshot(page, 'compare-metrics-capped');

  await page.getByTestId('show-all-metrics').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="compare-chart"]').length === 43);
  assert.equal(await page.getByTestId('charts-capped').count(), 0);
  assert.equal((await chartNames('[data-testid="compare-grid"]')).length, 35);
  const system = page.getByTestId('system-charts');
  assert.equal(await system.evaluate((d) => (d as HTMLDetailsElement).open), false);
  assert.match(await system.locator('summary').innerText(), /System metrics \(8\)/);
  assert.equal(await system.locator('[data-testid="compare-chart"]').first().isVisible(), false);
  await system.locator('summary').click();
  await system.locator('[data-testid="compare-chart"]').first().waitFor();
});

test('the metric picker charts just the metrics chosen', async () => {
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  const picker = page.getByTestId('metric-picker');
  await picker.locator('summary').click();
  // Untick everything the default read shows, then choose two.
  const ticked = picker.getByRole('checkbox', { checked: true });
  assert.equal(await ticked.count(), 20);
  while ((await ticked.count()) > 0) await ticked.first().uncheck();
  await picker.getByRole('searchbox').fill('gpu3');
  await picker.getByRole('checkbox').check();
  await picker.getByRole('searchbox').fill('m34');
  await picker.getByRole('checkbox').check();
  await picker.getByTestId('apply-metrics').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="compare-chart"]').length === 2);
  assert.deepEqual(await chartNames('[data-testid="compare-grid"]'), ['train/m34']);
  assert.deepEqual(await chartNames('[data-testid="system-charts"]'), ['system/gpu3']);
  assert.match(await page.getByTestId('charts-capped').innerText(), /Showing 2 of 43 metrics/);
});

test("the dashboard's column picker has a search box", async () => {
  await page.goto(`${server.url}/`);
  await page.getByText('Columns').click();
  const search = page.getByTestId('column-search');
  const labels = () =>
    page
      .locator('.picker fieldset')
      .filter({ hasText: /^Metrics/ })
      .locator('label')
      .allInnerTexts();
  await page.waitForFunction(() => document.querySelectorAll('.picker fieldset:last-of-type label').length > 0);
  assert.equal((await labels()).length, 43);
  await search.fill('m3');
  assert.deepEqual(
    (await labels()).map((t) => t.trim()),
    ['train/m30', 'train/m31', 'train/m32', 'train/m33', 'train/m34'],
  );
  await search.fill('nothing-like-this');
  await page.locator('.picker').getByText('no match').first().waitFor();
  await screenshot(page, 'column-search');
});
