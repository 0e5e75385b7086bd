/**
 * MLflow key/value tags on the experiment page: tags set with `mlflow.set_tag` show in a "Tags"
 * panel; an editor adds, changes and deletes them there and MLflow's runs/get reads the change
 * back; a viewer sees the tags without any control to change them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiSession, launchBrowser, screenshot, signedInPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let owner = '';
let viewer = '';
let runId = '';

async function call(cookie: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { cookie, origin: server.url, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function mlflowTags(): Promise<Record<string, string>> {
  const res = await call(owner, 'GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`);
  assert.equal(res.status, 200);
  const run = ((await res.json()) as { run: { data: { tags: { key: string; value: string }[] } } }).run;
  return Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
}

before(async () => {
  server = await startServer({ TORA_ALLOW_SIGNUP: 'true' });
  owner = await apiSession(server.url, 'tags-owner@example.com', 'correct horse battery');
  viewer = await apiSession(server.url, 'tags-viewer@example.com', 'correct horse battery');
  const exp = await call(owner, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'tagged' });
  const experimentId = ((await exp.json()) as { experiment_id: string }).experiment_id;
  const added = await call(owner, 'POST', `/api/workspaces/${experimentId}/members`, {
    email: 'tags-viewer@example.com',
    role: 'viewer',
  });
  assert.equal(added.status, 201);
  const run = await call(owner, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: 'resnet-tags',
    tags: [{ key: 'mlflow.user', value: 'ada' }],
  });
  runId = ((await run.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  for (const [key, value] of [
    ['stage', 'baseline'],
    ['dataset/version', 'imagenet-2012'],
    ['owner', 'vision-team'],
  ]) {
    assert.equal((await call(owner, 'POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key, value })).status, 200);
  }
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an editor adds, changes and deletes tags on the run page, and MLflow reads them back', async () => {
  const { context, page } = await signedInPage(browser, server.url, owner);
  await page.goto(`${server.url}/experiments/${runId}`);
  const panel = page.getByTestId('kv-tags');
  await panel.getByTestId('kv-tag').first().waitFor();
  const keys = () => panel.getByTestId('kv-tag').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  assert.deepEqual(await keys(), ['dataset/version', 'owner', 'stage']);
  // MLflow's own tags are not among the editable ones.
  assert.equal(await panel.getByRole('button', { name: /Edit tag mlflow/ }).count(), 0);

  await panel.getByRole('button', { name: 'Edit tag stage' }).click();
  await panel.getByTestId('kv-tag-value').fill('final');
  await panel.getByRole('button', { name: 'Save' }).click();
  await panel.locator('[data-key="stage"] .value', { hasText: 'final' }).waitFor();

  await panel.getByTestId('kv-tag-add').click();
  await panel.getByTestId('kv-tag-key').fill('reviewed by');
  await panel.getByTestId('kv-tag-value').fill('grace');
  await panel.getByRole('button', { name: 'Add', exact: true }).click();
  await panel.locator('[data-key="reviewed by"]').waitFor();

  await panel.getByRole('button', { name: 'Delete tag owner' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="kv-tag"][data-key="owner"]'));

  const tags = await mlflowTags();
  assert.equal(tags['stage'], 'final');
  assert.equal(tags['reviewed by'], 'grace');
  assert.equal(tags['dataset/version'], 'imagenet-2012');
  assert.equal(tags['owner'], undefined);
  assert.equal(tags['mlflow.user'], 'ada');
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'run-kv-tags-light');
  await context.close();

  for (const [name, opts] of [
    ['run-kv-tags-dark', { colorScheme: 'dark' as const }],
    ['run-kv-tags-phone', { width: 390, height: 844 }],
  ] as const) {
    const { context: c, page: p } = await signedInPage(browser, server.url, owner, opts);
    await p.goto(`${server.url}/experiments/${runId}`);
    await p.getByTestId('kv-tag').first().waitFor();
    await p.getByTestId('kv-tags').scrollIntoViewIfNeeded();
    await screenshot(p, name);
    await c.close();
  }
});

test('a viewer sees the tags but no control to change them', async () => {
  const { context, page } = await signedInPage(browser, server.url, viewer);
  await page.goto(`${server.url}/experiments/${runId}`);
  const panel = page.getByTestId('kv-tags');
  await panel.locator('[data-key="stage"] .value', { hasText: 'final' }).waitFor();
  assert.equal(await panel.getByTestId('kv-tag-add').count(), 0);
  assert.equal(await panel.getByRole('button', { name: /^(Edit|Delete) tag/ }).count(), 0);
  await context.close();
});
