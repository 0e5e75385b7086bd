import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshStorage, startTestServer, storageEnv, tora } from './harness.js';

const run = promisify(execFile);
const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

// Commands run in-process (runCli); cli-process.test.ts runs the built bin/tora.js once.
describe.each(DIALECTS)('the tora CLI on %s', (dialect) => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('migrates, creates a user and prints a working API key once', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const env = storageEnv(storage);
    expect((await tora(env, 'migrate')).stdout).toMatch(/applied migrations: 1, 2, 3, 4, 5/);
    expect((await tora(env, 'migrate')).stdout).toMatch(/up to date/);
    expect((await tora(env, 'user', 'create', '--email', 'Ops@Example.com', '--password', 'long password')).stdout).toMatch(
      /created user ops@example.com/,
    );
    const { stdout, stderr } = await tora(env, 'key', 'create', '--email', 'ops@example.com', '--name', 'ci');
    expect(stdout.trim()).toMatch(/^tora_[0-9A-Za-z]{43,}$/);
    expect(stderr).toContain('shown only once');
    expect(stderr).not.toContain(stdout.trim());
    await tora(env, 'key', 'create', '--email', 'ops@example.com', '--name', 'board', '--read-only', '--expires-days', '30');
    const listed = (await tora(env, 'key', 'list', '--email', 'ops@example.com')).stdout;
    expect(listed).toMatch(/board.*\bread\b.*\d{4}-\d\d-\d\dT.*active/);
    expect(listed).toMatch(/ci.*\bfull\b.*never.*active/);
  });

  it('explains bad input and bad configuration with a non-zero exit', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const env = storageEnv(storage);
    await expect(tora(env, 'user', 'create', '--email', 'x@example.com')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('needs --email and --password') as unknown,
    });
    await expect(tora(env, 'user', 'create', '--email', 'x@example.com', '--password', 'password')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Password is too common') as unknown,
    });
    await expect(
      tora(env, 'key', 'create', '--email', 'x@example.com', '--name', 'k', '--expires-days', '0'),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--expires-days takes a whole number') as unknown });
    await expect(tora(env, 'key', 'create', '--email', 'nobody@example.com', '--name', 'x')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No user with email') as unknown,
    });
    await expect(tora({ ...env, TORA_PORT: 'eighty' }, 'serve')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('TORA_PORT must be an integer') as unknown,
    });
  });

  it('key create --save writes the Python client its config, which the client then uses', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const configDir = path.join(storage.dataDir, 'client');
    const env = {
      TORA_DATA_DIR: storage.dataDir,
      TORA_DATABASE_URL: storage.databaseUrl ?? '',
      TORA_CONFIG_DIR: configDir,
      TORA_HOST: '0.0.0.0',
      TORA_PORT: '18123',
    };
    await tora(env, 'user', 'create', '--email', 'cai@example.com', '--password', 'first password');
    const { stdout, stderr } = await tora(env, 'key', 'create', '--email', 'cai@example.com', '--name', 'laptop', '--save');
    const file = path.join(configDir, 'config.json');
    expect(stderr).toContain(`saved it for the Python client in ${file} (server http://127.0.0.1:18123)`);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ server_url: 'http://127.0.0.1:18123', api_key: stdout.trim() });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // The real client, with no TORA_BASE_URL / TORA_API_KEY, resolves exactly that.
    const resolved = await run(
      'python3',
      ['-c', 'from tora._config import resolve; s = resolve(); print(s.server_url, s.api_key)'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          TORA_CONFIG_DIR: configDir,
          PYTHONPATH: path.join(SERVER_DIR, '../../clients/python/src'),
        },
      },
    );
    expect(resolved.stdout.trim()).toBe(`http://127.0.0.1:18123 ${stdout.trim()}`);
  });

  it('key create --save never silently replaces a config.json, and saves TORA_PUBLIC_URL', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const configDir = path.join(storage.dataDir, 'client');
    const file = path.join(configDir, 'config.json');
    const env = {
      TORA_DATA_DIR: storage.dataDir,
      TORA_DATABASE_URL: storage.databaseUrl ?? '',
      TORA_CONFIG_DIR: configDir,
      TORA_PUBLIC_URL: 'https://tora.example.com',
    };
    await tora(env, 'user', 'create', '--email', 'dee@example.com', '--password', 'first password');
    await tora(env, 'user', 'create', '--email', 'eve@example.com', '--password', 'first password');
    const first = await tora(env, 'key', 'create', '--email', 'dee@example.com', '--name', 'laptop', '--save');
    const deeKey = first.stdout.trim();
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ server_url: 'https://tora.example.com', api_key: deeKey });

    const refused = tora(env, 'key', 'create', '--email', 'eve@example.com', '--name', 'laptop', '--save');
    await expect(refused).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(`already holds the API key ${deeKey.slice(0, 12)}… of dee@example.com for https://tora.example.com.*--force`),
      ) as unknown,
    });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).api_key).toBe(deeKey);
    // No key was made for nothing.
    expect((await tora(env, 'key', 'list', '--email', 'eve@example.com')).stdout).not.toContain('laptop');

    fs.writeFileSync(file, JSON.stringify({ server_url: 'http://elsewhere:8080', api_key: 'tora_notours' }));
    await expect(tora(env, 'key', 'create', '--email', 'eve@example.com', '--name', 'x', '--save')).rejects.toMatchObject({
      stderr: expect.stringContaining('(not a key of this server) for http://elsewhere:8080') as unknown,
    });

    const forced = await tora(env, 'key', 'create', '--email', 'eve@example.com', '--name', 'laptop', '--save', '--force');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      server_url: 'https://tora.example.com',
      api_key: forced.stdout.trim(),
    });
  });

  it('lists users, resets a password (ending sessions), lists and revokes keys', async () => {
    const storage = await freshStorage(dialect);
    dirs.push(storage.dataDir);
    const env = storageEnv(storage);
    await tora(env, 'user', 'create', '--email', 'ann@example.com', '--password', 'first password');
    await tora(env, 'user', 'create', '--email', 'ben@example.com', '--password', 'first password');
    const users = (await tora(env, 'user', 'list')).stdout.trim().split('\n');
    expect(users[0]).toMatch(/^email\s+id\s+created$/);
    expect(users.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['ann@example.com', 'ben@example.com']);
    const key = (await tora(env, 'key', 'create', '--email', 'ann@example.com', '--name', 'laptop')).stdout.trim();
    await tora(env, 'key', 'create', '--email', 'ann@example.com', '--name', 'cluster');

    const server = await startTestServer(dialect, {}, { storage });
    try {
      const login = (password: string) =>
        server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'ann@example.com', password } });
      const cookie = String((await login('first password')).headers['set-cookie']).split(';')[0]!;
      const me = () => server.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
      expect((await me()).statusCode).toBe(200);

      const reset = await tora(env, 'user', 'set-password', '--email', 'Ann@Example.com', '--password', 'second password');
      expect(reset.stdout).toContain('1 session(s) ended');
      expect((await me()).statusCode).toBe(401);
      expect((await login('first password')).statusCode).toBe(401);
      expect((await login('second password')).statusCode).toBe(200);
      await expect(tora(env, 'user', 'set-password', '--email', 'ann@example.com', '--password', 'short')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('at least 8 characters') as unknown,
      });
      await expect(
        tora(env, 'user', 'set-password', '--email', 'ann@example.com', '--password', '12345678'),
      ).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('Password is too common') as unknown,
      });
      expect((await login('second password')).statusCode).toBe(200);

      const withKey = () => server.app.inject({ method: 'GET', url: '/api/experiments', headers: { 'x-api-key': key } });
      expect((await withKey()).statusCode).toBe(200);
      const listed = (await tora(env, 'key', 'list', '--email', 'ann@example.com')).stdout;
      expect(listed).toContain('laptop');
      expect(listed).toContain('cluster');
      expect(listed).not.toContain(key);
      const prefix = key.slice(0, 12);
      expect(listed).toContain(prefix);
      expect((await tora(env, 'key', 'revoke', '--email', 'ann@example.com', '--id', prefix)).stdout).toContain('revoked key');
      expect((await withKey()).statusCode).toBe(401);
      expect((await tora(env, 'key', 'list', '--email', 'ann@example.com')).stdout).toMatch(/laptop.*revoked/);
      await expect(tora(env, 'key', 'revoke', '--email', 'ben@example.com', '--id', prefix)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('has no key') as unknown,
      });
      await expect(tora(env, 'key', 'revoke', '--email', 'ann@example.com')).rejects.toMatchObject({ code: 2 });
    } finally {
      await server.close();
    }
  });
});
