/**
 * What MLflow logged beyond metrics, in a real browser: the Models page lists a workspace's
 * registered models with their versions (source run linked) and aliases, and an editor moves an
 * alias there; a run's page shows the datasets MLflow logged for it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiSession, launchBrowser, screenshot, signedInPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let key = '';
let runId = '';

/** MLflow's REST API as its client calls it. */
async function mlflow(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/api/2.0/mlflow${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as Record<string, unknown>;
}

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'models@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'mlflow' }),
  });
  key = ((await res.json()) as { key: string }).key;
  const run = (await mlflow('POST', '/runs/create', { experiment_id: '0', run_name: 'trainer' })) as {
    run: { info: { run_id: string } };
  };
  runId = run.run.info.run_id;
  await mlflow('POST', '/runs/log-inputs', {
    run_id: runId,
    datasets: [
      {
        dataset: {
          name: 'iris',
          digest: 'a1b2c3',
          source_type: 'local',
          source: '{"uri": "/data/iris.csv"}',
          profile: '{"num_rows": 150}',
        },
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
      },
    ],
  });
  await mlflow('POST', '/registered-models/create', { name: 'iris-classifier', tags: [{ key: 'team', value: 'vision' }] });
  for (let i = 0; i < 2; i++) {
    await mlflow('POST', '/model-versions/create', { name: 'iris-classifier', source: `runs:/${runId}/model`, run_id: runId });
  }
  await mlflow('POST', '/registered-models/alias', { name: 'iris-classifier', alias: 'champion', version: '1' });
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the Models page lists versions with their run and aliases; an editor moves an alias', async () => {
  await page.goto(`${server.url}/models`);
  const model = page.getByTestId('model');
  await model.waitFor();
  assert.equal(await model.locator('h2').innerText(), 'iris-classifier');
  assert.deepEqual(await model.getByTestId('alias').allInnerTexts(), ['@champion → v1 ×']);
  const rows = await model.getByTestId('version').evaluateAll((trs) =>
    trs.map((tr) =>
      Array.from(tr.querySelectorAll('td'))
        .slice(0, 4)
        .map((td) => td.textContent?.trim()),
    ),
  );
  assert.deepEqual(rows, [
    ['2', 'None', '', 'trainer'],
    ['1', 'None', '@champion', 'trainer'],
  ]);
  assert.equal(await model.getByRole('link', { name: 'trainer' }).first().getAttribute('href'), `/experiments/${runId}`);
  await screenshot(page, 'models');

  await model.getByRole('textbox', { name: 'Alias' }).fill('champion');
  await model.getByLabel('Version').selectOption('2');
  await model.getByRole('button', { name: 'Set alias' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="alias"]')?.textContent?.includes('v2'));
  // MLflow's client sees what the page set.
  const byAlias = await fetch(`${server.url}/api/2.0/mlflow/registered-models/alias?name=iris-classifier&alias=champion`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(((await byAlias.json()) as { model_version: { version: string } }).model_version.version, '2');
});

test("a run's page shows its datasets", async () => {
  await page.goto(`${server.url}/experiments/${runId}`);
  const panel = page.getByTestId('datasets');
  await panel.waitFor();
  const cells = await panel.locator('tbody td').allInnerTexts();
  assert.deepEqual(cells, ['iris 150 rows', 'training', '/data/iris.csv (local)', 'a1b2c3']);
  await screenshot(page, 'datasets');
});
