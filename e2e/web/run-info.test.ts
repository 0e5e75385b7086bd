/**
 * An experiment's group and run info in a real browser: the dashboard's group filter asks the
 * server for one group's runs; the experiment page shows the group and a "Run info" panel with
 * what the Python client captured (git commit, command line, host).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiSession, keyClient, launchBrowser, signedInPage, screenshot, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const ids: Record<string, string> = {};
const runInfo = { 'git.commit': '9f1c2e7d', 'git.branch': 'main', command: 'python train.py --lr 0.1', host: 'gpu-node-7' };

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'groups@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'groups' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  for (const [name, group] of [
    ['seed-0', 'sweep-a'],
    ['seed-1', 'sweep-a'],
    ['lonely', null],
  ] as const) {
    ids[name] = (await client.createExperiment({ name, group, runInfo: name === 'seed-0' ? runInfo : {} })).id;
  }
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const names = () =>
  page.getByTestId('experiment-row').evaluateAll((rows) => rows.map((r) => r.querySelector('.name a')?.textContent?.trim()));

test("the dashboard shows each run's group and filters by group through the server", async () => {
  await page.goto(server.url);
  await page.getByTestId('experiment-row').first().waitFor();
  assert.equal((await names()).length, 3);
  const asked = page.waitForRequest((r) => r.url().includes('/api/experiments?') && r.url().includes('group=sweep-a'));
  await page.getByTestId('group-filter').fill('sweep-a');
  await asked;
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  assert.deepEqual((await names()).sort(), ['seed-0', 'seed-1']);
  // Each row shows its group beside the name.
  assert.deepEqual(await page.getByTestId('row-group').allInnerTexts(), ['sweep-a', 'sweep-a']);
  await screenshot(page, 'dashboard-group-filter');
});

test('the experiment page shows the group and the run info', async () => {
  await page.goto(`${server.url}/experiments/${ids['seed-0']}`);
  assert.equal(await page.getByTestId('experiment-group').innerText(), 'sweep-a');
  const panel = page.getByTestId('run-info');
  await panel.waitFor();
  const rows = await panel
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [tr.querySelector('code')?.textContent, tr.querySelector('.value')?.textContent]));
  assert.deepEqual(rows, [
    ['command', 'python train.py --lr 0.1'],
    ['git.branch', 'main'],
    ['git.commit', '9f1c2e7d'],
    ['host', 'gpu-node-7'],
  ]);
  await screenshot(page, 'run-info');
  await page.goto(`${server.url}/experiments/${ids['lonely']}`);
  await page.getByTestId('run-info').getByText('None recorded.').waitFor();
  assert.equal(await page.getByTestId('experiment-group').count(), 0);
});
