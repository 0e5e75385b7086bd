/**
 * Roles: a viewer of a workspace sees its experiments but no controls to change them, and the
 * server refuses the change anyway when their session calls the API directly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiSession, launchBrowser, newPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let experimentId = '';
let workspaceId = '';

async function call(cookie: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}/api${path}`, {
    method,
    headers: { cookie, origin: server.url, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

before(async () => {
  server = await startServer({ TORA_ALLOW_SIGNUP: 'true' });
  const owner = await apiSession(server.url, 'owner@example.com', 'correct horse battery');
  await apiSession(server.url, 'viewer@example.com', 'correct horse battery');
  const ws = (await (await call(owner, 'POST', '/workspaces', { name: 'Shared' })).json()) as { id: string };
  workspaceId = ws.id;
  assert.equal(
    (await call(owner, 'POST', `/workspaces/${ws.id}/members`, { email: 'viewer@example.com', role: 'viewer' })).status,
    201,
  );
  const created = await call(owner, 'POST', '/experiments', { name: 'owners-run', workspaceId: ws.id, tags: ['shared'] });
  experimentId = ((await created.json()) as { experiment: { id: string } }).experiment.id;
  await call(owner, 'POST', `/experiments/${experimentId}/metrics/batch`, {
    series: { loss: { steps: [0, 1, 2], values: [3, 2, 1] } },
  });

  browser = await launchBrowser();
  ({ page } = await newPage(browser));
  page.setDefaultTimeout(10_000);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an owner manages members in the UI: add, change role, remove', async () => {
  await apiSession(server.url, 'editor@example.com', 'correct horse battery');
  const { context, page: owner } = await newPage(browser);
  owner.setDefaultTimeout(10_000);
  await owner.goto(`${server.url}/login`);
  await owner.getByLabel('Email').fill('owner@example.com');
  await owner.getByLabel('Password').fill('correct horse battery');
  await owner.getByRole('button', { name: 'Log in' }).click();
  await owner.getByRole('heading', { name: /Experiments/ }).waitFor();
  await owner.getByTestId('workspace-switcher').selectOption(workspaceId);
  await owner.getByRole('link', { name: 'Workspaces' }).click();
  await owner.getByTestId('member-list').getByRole('cell', { name: 'viewer@example.com', exact: true }).waitFor();
  await owner.getByLabel('Email').fill('editor@example.com');
  await owner.getByTestId('add-member-role').selectOption('viewer');
  await owner.getByRole('button', { name: 'Add member' }).click();
  await owner.getByTestId('member-list').getByRole('cell', { name: 'editor@example.com', exact: true }).waitFor();
  await owner.getByLabel('Role of editor@example.com').selectOption('editor');
  await owner.getByText('editor@example.com is now editor').waitFor();
  await owner.getByRole('button', { name: 'Remove editor@example.com' }).click();
  await owner.getByTestId('confirm').click();
  await owner.waitForFunction(
    () => !document.querySelector('[data-testid="member-list"]')!.textContent!.includes('editor@example.com'),
  );
  // Demoting the only owner is refused by the server, and its message is shown.
  await owner.getByLabel('Role of owner@example.com').selectOption('viewer');
  await owner.getByTestId('toast-error').waitFor();
  await context.close();
});

test('the viewer logs in with the keyboard only', async () => {
  await page.goto(`${server.url}/login`);
  await page.getByRole('heading', { name: 'Log in to Tora' }).waitFor();
  await page.getByLabel('Email').focus();
  await page.keyboard.type('viewer@example.com');
  await page.keyboard.press('Tab');
  await page.keyboard.type('wrong password');
  await page.keyboard.press('Enter');
  await page.getByTestId('auth-error').waitFor();
  await page.getByLabel('Password').fill('');
  await page.getByLabel('Password').focus();
  await page.keyboard.type('correct horse battery');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /Experiments/ }).waitFor();
});

test('a viewer sees no create, edit or delete controls', async () => {
  await page.getByTestId('workspace-switcher').selectOption(workspaceId);
  const row = page.getByTestId('experiment-row').filter({ hasText: 'owners-run' });
  await row.waitFor();
  assert.equal(await page.getByRole('button', { name: 'New experiment' }).count(), 0);
  assert.equal(await row.getByRole('button').count(), 0);
  await row.getByRole('link', { name: 'owners-run' }).click();
  await page.getByTestId('metric-chart').waitFor();
  assert.equal(await page.getByTestId('edit-experiment').count(), 0);
  assert.equal(await page.getByTestId('delete-experiment').count(), 0);
  // Members page: no add form, no role selects, only "Leave" for themselves.
  await page.getByRole('link', { name: 'Workspaces' }).click();
  await page.getByTestId('member-list').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Add member' }).count(), 0);
  assert.equal(await page.getByTestId('member-list').locator('select').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Delete workspace' }).count(), 0);
  // The id `tora export/import --workspace` takes (besides the name) is on the page, for anyone.
  assert.equal(await page.getByTestId('workspace-id').innerText(), workspaceId);
  // Metric directions: listed with what applies, but no control to change them.
  await page.locator('[data-testid="direction-row"][data-metric="loss"]').waitFor();
  assert.equal(await page.getByTestId('direction-select').count(), 0);
});

test("the server refuses a viewer's direct API calls made with their browser session", async () => {
  const statuses = await page.evaluate(
    async ({ id, ws }) => {
      const put = await fetch(`/api/experiments/${id}`, {
        method: 'PUT',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'hijacked' }),
      });
      const del = await fetch(`/api/experiments/${id}`, { method: 'DELETE', credentials: 'same-origin' });
      const log = await fetch(`/api/experiments/${id}/metrics/batch`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ name: 'loss', value: 0, step: 9 }]),
      });
      const direction = await fetch(`/api/workspaces/${ws}/metric-directions`, {
        method: 'PUT',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ loss: 'max' }),
      });
      return [put.status, del.status, log.status, direction.status];
    },
    { id: experimentId, ws: workspaceId },
  );
  assert.deepEqual(statuses, [403, 403, 403, 403]);
  const after = await page.evaluate(
    async (id) => (await (await fetch(`/api/experiments/${id}`)).json()) as { name: string },
    experimentId,
  );
  assert.equal(after.name, 'owners-run');
});
