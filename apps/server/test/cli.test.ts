import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStorage } from './harness.js';

const run = promisify(execFile);
const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs `tora …` from the sources, as `npx tora` would from a build. */
function tora(env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: SERVER_DIR,
    env: { ...process.env, TORA_LOG_LEVEL: 'silent', ...env },
  });
}

describe.each(DIALECTS)('the tora CLI on %s', (dialect) => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('migrates, creates a user and prints a working API key once', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const env = { TORA_DATA_DIR: storage.dataDir, TORA_DATABASE_URL: storage.databaseUrl ?? '' };
    expect((await tora(env, 'migrate')).stdout).toMatch(/applied migrations: 1, 2, 3, 4, 5/);
    expect((await tora(env, 'migrate')).stdout).toMatch(/up to date/);
    expect((await tora(env, 'user', 'create', '--email', 'Ops@Example.com', '--password', 'long password')).stdout).toMatch(
      /created user ops@example.com/,
    );
    const { stdout, stderr } = await tora(env, 'key', 'create', '--email', 'ops@example.com', '--name', 'ci');
    expect(stdout.trim()).toMatch(/^tora_[0-9A-Za-z]{43,}$/);
    expect(stderr).toContain('shown only once');
    expect(stderr).not.toContain(stdout.trim());
  });

  it('explains bad input and bad configuration with a non-zero exit', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const env = { TORA_DATA_DIR: storage.dataDir, TORA_DATABASE_URL: storage.databaseUrl ?? '' };
    await expect(tora(env, 'user', 'create', '--email', 'x@example.com')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('needs --email and --password') as unknown,
    });
    await expect(tora(env, 'key', 'create', '--email', 'nobody@example.com', '--name', 'x')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No user with email') as unknown,
    });
    await expect(tora({ ...env, TORA_PORT: 'eighty' }, 'serve')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('TORA_PORT must be an integer') as unknown,
    });
  });
});
