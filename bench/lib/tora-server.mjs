// Starts a built Tora server as a child process for benchmarks, with a user and an API key, through
// the launcher the browser tests share (scripts/tora-process.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, ROOT, freePort, startToraProcess } from '../../scripts/tora-process.mjs';

export { BIN, ROOT, freePort };

export async function waitFor(url, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export function ensureBuilt() {
  if (!fs.existsSync(path.join(ROOT, 'apps/server/dist/main.js'))) {
    execFileSync('npm', ['run', 'build', '-w', 'apps/server'], { cwd: ROOT, stdio: 'inherit' });
  }
}

/** Creates the bench user on the storage `env` names (the CLI, straight to the database) and returns an API key of theirs. */
export function benchUserKey(env) {
  execFileSync(process.execPath, [BIN, 'user', 'create', '--email', 'bench@example.com', '--password', 'benchmark-pw'], {
    env,
    stdio: 'ignore',
  });
  return execFileSync(process.execPath, [BIN, 'key', 'create', '--email', 'bench@example.com', '--name', 'bench'], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim()
    .split('\n')
    .pop();
}

/** Starts Tora on SQLite (default) or the given PostgreSQL URL, with extra `env`; returns {base, key, pid, env, stop}. */
export async function startTora({ databaseUrl = '', env: extra = {} } = {}) {
  ensureBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-bench-'));
  const env = { ...process.env, TORA_DATA_DIR: dataDir, TORA_DATABASE_URL: databaseUrl, TORA_LOG_LEVEL: 'warn', ...extra };
  const key = benchUserKey(env);
  const server = await startToraProcess({
    dataDir,
    env: { TORA_DATABASE_URL: databaseUrl, ...extra },
    stdout: 'ignore',
    timeoutMs: 60_000,
  });
  return {
    base: server.url,
    key,
    pid: server.pid,
    env: { ...env, TORA_PORT: String(server.port) },
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createExperiment(server, name) {
  const res = await fetch(`${server.base}/api/experiments`, {
    method: 'POST',
    headers: server.headers,
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`create experiment: ${res.status} ${await res.text()}`);
  return (await res.json()).experiment.id;
}

export function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Runs `tasks` (async functions) with at most `concurrency` in flight. */
export async function pool(tasks, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
