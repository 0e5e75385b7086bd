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
  ids['nested'] = (
    await client.createExperiment({
      name: 'nested',
      hyperparams: {
        args: { learning_rate: 0.001, per_device_train_batch_size_for_the_first_stage_of_training: 32 },
        model: { name: 'meta-llama/Llama-3.1-8B-Instruct-with-a-rather-long-checkpoint-path/final', layers: 32 },
        seed: 7,
      },
    })
  ).id;
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
  assert.equal((await names()).length, 4);
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
    .evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('code')?.textContent, tr.querySelector('.value')?.textContent ?? null]),
    );
  // git.* keys under a "git" heading.
  assert.deepEqual(rows, [
    ['command', 'python train.py --lr 0.1'],
    ['git', null],
    ['branch', 'main'],
    ['commit', '9f1c2e7d'],
    ['host', 'gpu-node-7'],
  ]);
  await screenshot(page, 'run-info');
  await page.goto(`${server.url}/experiments/${ids['lonely']}`);
  await page.getByTestId('run-info').getByText('None recorded.').waitFor();
  assert.equal(await page.getByTestId('experiment-group').count(), 0);
});

test('dotted hyperparameter keys are a two-level tree; long keys truncate (full on hover) and values keep their room', async () => {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`${server.url}/experiments/${ids['nested']}`);
    const groups = page.getByTestId('hp-group');
    await groups.first().waitFor();
    assert.deepEqual(await groups.allInnerTexts(), ['args (2)', 'model (2)']);
    const long = page.getByTestId('hp-key').filter({ hasText: 'per_device' });
    assert.equal(await long.getAttribute('title'), 'args.per_device_train_batch_size_for_the_first_stage_of_training');
    assert.equal(await long.innerText(), 'per_device_train_batch_size_for_the_first_stage_of_training');
    const cut = await long.evaluate((td) => ({ scroll: td.scrollWidth, client: td.clientWidth }));
    assert.ok(cut.scroll > cut.client, `the long key is truncated (${cut.scroll} > ${cut.client})`);
    // The value column is the widest, and the long value wraps inside it instead of being cut.
    const value = page.locator('tr', { has: page.getByTestId('hp-key').filter({ hasText: /^name$/ }) }).getByTestId('hp-value');
    const box = await value.evaluate((td) => ({
      w: td.clientWidth,
      scroll: td.scrollWidth,
      table: td.closest('table')!.clientWidth,
    }));
    assert.ok(box.w >= box.table * 0.45, `value column ${box.w} of ${box.table}`);
    assert.ok(box.scroll <= box.w + 1, 'the value is not cut');
    await screenshot(page, `hyperparams-tree-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});
