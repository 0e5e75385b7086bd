import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, startToraProcess } from '../../../scripts/tora-process.mjs';
import { DIALECTS, freshStorage, tempDir } from './harness.js';

const run = promisify(execFile);
const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  return Math.max(
    ...fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .map((e) => (e.isFile() ? fs.statSync(path.join(e.parentPath, e.name)).mtimeMs : 0)),
  );
}

/**
 * The one test of the real `tora` process (every other CLI test calls runCli in-process): the
 * built bin/tora.js, its exit codes, and `serve` shutting down cleanly on SIGTERM.
 */
describe('the built tora command', () => {
  beforeAll(() => {
    const main = path.join(SERVER_DIR, 'dist/main.js');
    if (!fs.existsSync(main) || newest(path.join(SERVER_DIR, 'src')) > fs.statSync(main).mtimeMs) {
      // Stale or missing (a run outside scripts/test.sh, which builds first): compile the sources.
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: SERVER_DIR, stdio: 'inherit' });
    }
  }, 120_000);

  it('migrates, exits 2 on a usage mistake, serves until SIGTERM and then exits 0', async () => {
    const dataDir = tempDir('process-');
    const env = { ...process.env, TORA_DATA_DIR: dataDir, TORA_DATABASE_URL: '', TORA_LOG_LEVEL: 'silent' };
    expect((await run(process.execPath, [BIN, 'migrate'], { env })).stdout).toMatch(/^applied migrations: 1, 2, /);
    await expect(run(process.execPath, [BIN, 'user', 'create', '--email', 'x@example.com'], { env })).rejects.toMatchObject({
      code: 2,
      stderr: 'tora user create needs --email and --password\n',
    });

    const server = await startToraProcess({ dataDir, stdout: 'ignore', timeoutMs: 60_000 });
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { database: string }).database).toBe('sqlite');
    await server.stop();
    expect(server.child.exitCode).toBe(0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints one line at start and none per request by default; TORA_LOG_LEVEL=info adds the JSON request log', async () => {
    const lines = async (env: Record<string, string>) => {
      const server = await startToraProcess({ env, stdout: 'pipe', timeoutMs: 60_000 });
      let out = '';
      server.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      for (const p of ['/api/health', '/api/experiments', '/api/nothing-here']) await fetch(`${server.url}${p}`);
      await server.stop();
      return out.split('\n').filter((l) => l.trim() !== '');
    };
    const quiet = await lines({ TORA_LOG_LEVEL: '' });
    expect(quiet).toHaveLength(1);
    expect(quiet[0]).toMatch(/^Tora is ready at http:\/\/127\.0\.0\.1:\d+ \(SQLite: .*tora\.db\)$/);
    const loud = await lines({ TORA_LOG_LEVEL: 'info' });
    const requests = loud.filter((l) => l.includes('"reqId"'));
    // The health checks while starting are requests too: at least our three, each logged.
    expect(requests.length).toBeGreaterThanOrEqual(6);
  }, 120_000);

  it.each(DIALECTS)(
    'SIGTERM drains a batch in flight on %s: it is answered 201 and stored, then the process exits 0',
    async (dialect) => {
      const storage = await freshStorage(dialect);
      const env = { TORA_ALLOW_SIGNUP: 'true', TORA_DATABASE_URL: storage.databaseUrl ?? '' };
      const server = await startToraProcess({ dataDir: storage.dataDir, env, stdout: 'ignore', timeoutMs: 60_000 });
      const json = { 'content-type': 'application/json' };
      const signup = await fetch(`${server.url}/api/auth/signup`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'drain@example.com', password: 'correct horse battery' }),
      });
      const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0]!;
      const made = await fetch(`${server.url}/api/keys`, {
        method: 'POST',
        headers: { ...json, cookie, origin: server.url },
        body: JSON.stringify({ name: 'k' }),
      });
      const { key } = (await made.json()) as { key: string };
      const auth = { 'x-api-key': key };
      const created = await fetch(`${server.url}/api/experiments`, {
        method: 'POST',
        headers: { ...json, ...auth },
        body: JSON.stringify({ name: 'drain' }),
      });
      const id = ((await created.json()) as { experiment: { id: string } }).experiment.id;

      const steps = Array.from({ length: 5000 }, (_, i) => i);
      const body = Buffer.from(
        JSON.stringify({ batchId: 'drain-1', series: { loss: { steps, values: steps.map((i) => 1 / (i + 1)) } } }),
      );
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: `/api/experiments/${id}/metrics/batch`,
        headers: { ...json, ...auth, 'content-length': body.length },
      });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('error', reject);
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
      });
      // The batch's first bytes reach the server, then SIGTERM, then the rest: the server is closing while it reads.
      req.write(body.subarray(0, 1000));
      await new Promise((r) => setTimeout(r, 500));
      const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      expect(server.child.exitCode).toBeNull();
      req.end(body.subarray(1000));
      const res = await answered;
      expect(res.status, res.body).toBe(201);
      expect(JSON.parse(res.body)).toMatchObject({ success: true, count: 5000 });
      expect(await exited).toBe(0);

      // A new server on the same storage has every point.
      const again = await startToraProcess({ dataDir: storage.dataDir, env, stdout: 'ignore', timeoutMs: 60_000 });
      try {
        const metrics = await fetch(`${again.url}/api/experiments/${id}/metrics`, { headers: auth });
        expect(((await metrics.json()) as { metrics: { name: string; count: number }[] }).metrics).toMatchObject([
          { name: 'loss', count: 5000 },
        ]);
      } finally {
        await again.stop();
        fs.rmSync(storage.dataDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
  it('loads the AWS SDK only where the blob store is an S3 bucket, and only once the store is used', async () => {
    // The server's and the CLI's whole module graph, a blob store from the environment, one use of it.
    const probe = `
      import { createRequire } from 'node:module';
      await import('./dist/app.js');
      await import('./dist/cli/index.js');
      const { loadConfig } = await import('./dist/config.js');
      const { blobStoreFor } = await import('./dist/modules/artifacts/artifacts.blob-store.js');
      const cache = createRequire(import.meta.url).cache;
      const sdk = () => Object.keys(cache).some((file) => file.includes('@aws-sdk'));
      const store = blobStoreFor(loadConfig(process.env));
      const before = sdk();
      await store.list(['nothing']).catch(() => undefined);
      store.close();
      console.log(JSON.stringify({ before, after: sdk() }));`;
    const loads = async (env: Record<string, string>) => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: SERVER_DIR,
        env: { ...process.env, TORA_DATA_DIR: tempDir('sdk-'), TORA_DATABASE_URL: '', ...env },
      });
      return JSON.parse(stdout.trim().split('\n').pop()!) as { before: boolean; after: boolean };
    };
    expect(await loads({ TORA_ARTIFACT_STORE: '' })).toEqual({ before: false, after: false });
    // Nothing listens on the discard port: the list fails, after the SDK was loaded to send it.
    expect(
      await loads({
        TORA_ARTIFACT_STORE: 's3://bucket/prefix',
        TORA_S3_ENDPOINT: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'secret',
      }),
    ).toEqual({ before: false, after: true });
  }, 60_000);
});
