/**
 * Invite links with sign-up closed, the whole flow in a real browser: an owner adds a colleague who
 * has no account, is told so, creates an invite link in the member dialog and copies it; the
 * colleague opens it, signs up (sign-up being closed otherwise) and lands in the workspace with the
 * invited role; the used link then says so in words.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiSession, launchBrowser, newPage, screenshot, signedInPage, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let browser: Browser;
let owner = '';
let workspaceId = '';

async function call(cookie: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}/api${path}`, {
    method,
    headers: { cookie, origin: server.url, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

before(async () => {
  server = await startServer({ TORA_ALLOW_SIGNUP: 'false' });
  owner = await apiSession(server.url, 'lead@example.com', 'correct horse battery');
  workspaceId = ((await (await call(owner, 'POST', '/workspaces', { name: 'Vision team' })).json()) as { id: string }).id;
  const made = await call(owner, 'POST', '/experiments', { name: 'shared-run', workspaceId });
  assert.equal(made.status, 201);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an owner invites a colleague without an account, who signs up with the link while sign-up is closed', async () => {
  const { context, page } = await signedInPage(browser, server.url, owner);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.goto(`${server.url}/settings/workspaces`);
  await page.getByRole('button', { name: 'Vision team' }).click();
  await page.getByTestId('member-list').getByRole('cell', { name: 'lead@example.com (you)' }).waitFor();
  await page.getByLabel('Email').fill('newcomer@example.com');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByText('newcomer@example.com has no account yet: create an invite link for them below.').waitFor();

  await page.getByTestId('invite-role').selectOption('editor');
  await page.getByTestId('invite-create').click();
  const link = await page.getByTestId('invite-link').inputValue();
  assert.match(link, new RegExp(`^${server.url}/signup\\?invite=[A-Za-z0-9_-]{40,}$`));
  await page.getByRole('button', { name: 'Copy invite link' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  const openRow = page.getByTestId('invite-list').getByRole('row').filter({ hasText: 'newcomer@example.com' });
  await openRow.getByRole('cell', { name: 'editor' }).waitFor();
  await page.getByTestId('invite-links').scrollIntoViewIfNeeded();
  await screenshot(page, 'invite-members-light');
  await context.close();

  // A stranger without the link meets a closed door.
  const { context: guest, page: newcomer } = await newPage(browser);
  newcomer.setDefaultTimeout(10_000);
  await newcomer.goto(`${server.url}/signup`);
  await newcomer.getByRole('heading', { name: 'Sign-up is closed' }).waitFor();

  await newcomer.goto(link);
  await newcomer.getByRole('heading', { name: 'Join Vision team' }).waitFor();
  await newcomer.getByText('You are invited as editor.').waitFor();
  assert.equal(await newcomer.getByLabel('Email').inputValue(), 'newcomer@example.com');
  await newcomer.getByLabel('Password').fill('a long passphrase for me');
  await newcomer.getByRole('button', { name: 'Create account' }).click();
  // Lands in the workspace it joined, as an editor.
  await newcomer.getByTestId('experiment-row').filter({ hasText: 'shared-run' }).waitFor();
  assert.equal(await newcomer.getByTestId('workspace-switcher').inputValue(), workspaceId);
  await newcomer.getByRole('button', { name: 'New experiment' }).waitFor();
  await guest.close();

  const members = (await (await call(owner, 'GET', `/workspaces/${workspaceId}/members`)).json()) as {
    members: { email: string; role: string }[];
  };
  assert.equal(members.members.find((m) => m.email === 'newcomer@example.com')?.role, 'editor');

  // The link worked once.
  const { context: again, page: late } = await newPage(browser);
  await late.goto(link);
  await late.getByRole('heading', { name: 'Invite link not usable' }).waitFor();
  assert.equal(
    await late.getByTestId('invite-error').getByRole('alert').innerText(),
    'This invite link has already been used; ask for a new one',
  );
  await again.close();
});

test('screenshots: the invite sign-up page and the member dialog, dark and at phone width', async () => {
  const res = await call(owner, 'POST', `/workspaces/${workspaceId}/invites`, { role: 'viewer' });
  const { path } = (await res.json()) as { path: string };
  for (const [name, opts] of [
    ['invite-signup-light', {}],
    ['invite-signup-dark', { colorScheme: 'dark' as const }],
    ['invite-signup-phone', { width: 390, height: 844 }],
  ] as const) {
    const { context, page } = await newPage(browser, opts);
    await page.goto(`${server.url}${path}`);
    await page.getByRole('heading', { name: 'Join Vision team' }).waitFor();
    await screenshot(page, name);
    await context.close();
  }
  for (const [name, opts] of [
    ['invite-members-dark', { colorScheme: 'dark' as const }],
    ['invite-members-phone', { width: 390, height: 844 }],
  ] as const) {
    const { context, page } = await signedInPage(browser, server.url, owner, opts);
    await page.goto(`${server.url}/settings/workspaces`);
    await page.getByRole('button', { name: 'Vision team' }).click();
    await page.getByTestId('invite-create').click();
    await page.getByTestId('invite-link').waitFor();
    await page.getByTestId('invite-links').scrollIntoViewIfNeeded();
    await screenshot(page, name);
    await context.close();
  }
});
