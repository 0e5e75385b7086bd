/**
 * A run's Models section in a real browser: an MLflow logged model and a directory of the run's
 * files holding an MLmodel, each with its flavors, size, files and the line that loads it, and the
 * registered versions made from the run linked to the Models page.
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
let modelId = '';
const MLMODEL = (flavor: string) =>
  `flavors:\n  python_function:\n    loader_module: mlflow.${flavor}\n  ${flavor}:\n    pickled_model: model.pkl\n`;

async function mlflow(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/api/2.0/mlflow${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function upload(path: string, body: string): Promise<void> {
  const res = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}` },
    body,
  });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'run-models@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'mlflow' }),
  });
  key = ((await res.json()) as { key: string }).key;
  const run = (await mlflow('POST', '/runs/create', { experiment_id: '0', run_name: 'trainer' })) as {
    run: { info: { run_id: string; experiment_id: string } };
  };
  runId = run.run.info.run_id;
  // MLflow calls the default workspace "0"; the artifact paths (as in the run's artifact_uri) name its id.
  const tora = await fetch(`${server.url}/api/experiments/${runId}`, { headers: { 'x-api-key': key } });
  const ws = ((await tora.json()) as { workspaceId: string }).workspaceId;
  const created = (await mlflow('POST', '/logged-models', {
    experiment_id: ws,
    name: 'classifier',
    model_type: '',
    source_run_id: runId,
  })) as { model: { info: { model_id: string } } };
  modelId = created.model.info.model_id;
  await upload(`${ws}/${runId}/models/${modelId}/artifacts/MLmodel`, MLMODEL('sklearn'));
  await upload(`${ws}/${runId}/models/${modelId}/artifacts/model.pkl`, 'x'.repeat(2048));
  await mlflow('PATCH', `/logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
  await upload(`${ws}/${runId}/artifacts/checkpoints/best/MLmodel`, MLMODEL('pytorch'));
  await upload(`${ws}/${runId}/artifacts/checkpoints/best/data/model.pth`, 'y'.repeat(4096));
  await mlflow('POST', '/registered-models/create', { name: 'fraud-detector' });
  await mlflow('POST', '/model-versions/create', { name: 'fraud-detector', source: `models:/${modelId}`, run_id: runId });
  await mlflow('POST', '/registered-models/alias', { name: 'fraud-detector', alias: 'champion', version: '1' });
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie, { height: 1200 }));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the Models section lists the run’s models with flavors, size, files, the load line and registered versions', async () => {
  await page.goto(`${server.url}/experiments/${runId}`);
  const section = page.getByTestId('models');
  await section.waitFor();
  assert.equal(await section.locator('h2').innerText(), 'Models (2)');
  const logged = section.locator(`[data-testid="run-model"][data-key="${modelId}"]`);
  assert.equal(await logged.getByTestId('model-name').innerText(), 'classifier');
  assert.equal(await logged.getByTestId('model-status').innerText(), 'READY');
  assert.deepEqual(await logged.getByTestId('model-flavor').allInnerTexts(), ['python_function', 'sklearn']);
  assert.match(await logged.getByTestId('model-size').innerText(), /2 files$/);
  assert.equal(await logged.getByTestId('model-load').innerText(), `mlflow.pyfunc.load_model("models:/${modelId}")`);
  assert.equal(await logged.getByTestId('model-version').innerText(), 'fraud-detector v1 @champion');

  const dir = section.locator('[data-testid="run-model"][data-key="dir:checkpoints/best"]');
  assert.deepEqual(await dir.getByTestId('model-flavor').allInnerTexts(), ['python_function', 'pytorch']);
  assert.equal(await dir.getByTestId('model-load').innerText(), `mlflow.pyfunc.load_model("runs:/${runId}/checkpoints/best")`);
  await dir.locator('summary').click();
  const fileLinks = dir.getByTestId('model-files').locator('a');
  assert.deepEqual(await fileLinks.allInnerTexts(), ['MLmodel', 'data/model.pth']);
  assert.match((await fileLinks.nth(1).getAttribute('href')) ?? '', /\/files\/checkpoints%2Fbest%2Fdata%2Fmodel\.pth$/);
  await section.scrollIntoViewIfNeeded();
  await screenshot(page, 'run-models-section');

  // The registered version links to its model on the Models page.
  await logged.getByTestId('model-version').getByRole('link').click();
  await page.waitForURL(/\/models#model-fraud-detector$/);
  await page.locator('#model-fraud-detector').waitFor();
});
