/**
 * The link MLflow's client prints after a run, `<tracking URI>/#/experiments/<experiment id>/runs/<run id>`
 * (mlflow's `_log_url`), opens that run in Tora: an MLflow run is a Tora experiment, so the SPA
 * at / reads the hash and goes to the experiment's page, through the login page when signed out.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiSession, launchBrowser, newPage, screenshot, signedInPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let cookie = '';
let link = '';
let runId = '';
let workspaceId = '';

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'mlflow-link@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'mlflow-link' }),
  });
  const key = ((await res.json()) as { key: string }).key;
  const ml = async (p: string, body: unknown) => {
    const r = await fetch(`${server.url}/api/2.0/mlflow${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as { run: { info: { run_id: string; experiment_id: string } } };
  };
  const created = await ml('/runs/create', { experiment_id: '0', run_name: 'printed-by-mlflow' });
  runId = created.run.info.run_id;
  // MLflow names the user's default workspace "0" (its default experiment); Tora's API, its real id.
  assert.equal(created.run.info.experiment_id, '0');
  link = `${server.url}/#/experiments/0/runs/${runId}`;
  const run = await fetch(`${server.url}/api/experiments/${runId}`, { headers: { 'x-api-key': key } });
  workspaceId = ((await run.json()) as { workspaceId: string }).workspaceId;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("MLflow's run link opens that run's page", async () => {
  const { page, context } = await signedInPage(browser, server.url, cookie);
  await page.goto(link);
  await page.waitForURL(`${server.url}/experiments/${runId}`);
  await page.getByRole('heading', { name: 'printed-by-mlflow' }).waitFor();
  await screenshot(page, 'mlflow-link-run');
  // Back does not return to the bare hash link (it was replaced).
  assert.equal(await page.evaluate(() => history.length), 2);
  // An MLflow experiment link opens its workspace's dashboard; "0", the default one's.
  await page.goto(`${server.url}/#/experiments/${workspaceId}`);
  await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('ws') === workspaceId);
  await page.goto(`${server.url}/#/experiments/0`);
  await page.waitForURL((u) => u.pathname === '/' && u.hash === '' && !u.searchParams.has('ws'));
  await context.close();
});

test('signed out, the run link goes through the login page to the run', async () => {
  const { page, context } = await newPage(browser);
  await page.goto(link);
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), `/experiments/${runId}`);
  await page.getByLabel('Email').fill('mlflow-link@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: /log in|sign in/i }).click();
  await page.waitForURL(`${server.url}/experiments/${runId}`);
  await context.close();
});
