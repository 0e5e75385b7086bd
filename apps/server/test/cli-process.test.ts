import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, startToraProcess } from '../../../scripts/tora-process.mjs';
import { tempDir } from './harness.js';

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
});
