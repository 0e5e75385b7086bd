// Starts a Tora server as its own process on a free loopback port, waits until /api/health
// answers, and stops it (SIGTERM, or SIGKILL for crash tests): the one launcher of the browser
// tests (e2e/web/harness.ts), the benchmarks (bench/lib/tora-server.mjs) and the server's process
// tests (apps/server/test/durability.test.ts). Types: tora-process.d.mts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The built server's entry (`npm run build -w apps/server` makes dist/). */
export const BIN = path.join(ROOT, 'apps/server/bin/tora.js');

/** A TCP port that was free on loopback a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `tora serve`. Options: `env` (on top of the process's environment and the launcher's
 * port, host, log level and data directory), `dataDir` (the caller's; default: a fresh temporary
 * directory that stop() removes), `command` (default: the built server; the server's own tests
 * run the sources through tsx), `cwd`, `stdout` ('inherit', 'ignore' or 'pipe': read child.stdout), `timeoutMs` for health.
 */
export async function startToraProcess({
  env = {},
  dataDir,
  command = [process.execPath, BIN],
  cwd = ROOT,
  stdout = 'inherit',
  timeoutMs = 20_000,
} = {}) {
  const ownDir = dataDir === undefined;
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tora-server-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const [file, ...args] = command;
  const child = spawn(file, [...args, 'serve'], {
    cwd,
    env: {
      ...process.env,
      TORA_DATA_DIR: dir,
      TORA_PORT: String(port),
      TORA_HOST: '127.0.0.1',
      TORA_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Never leave a server behind when the process that started it dies.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const end = async (signal) => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const removeDir = () => {
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      removeDir();
      throw new Error(`tora serve exited with ${child.exitCode ?? child.signalCode} before it was healthy`);
    }
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await end('SIGKILL');
      removeDir();
      throw new Error(`tora serve did not become healthy in ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    dataDir: dir,
    pid: child.pid,
    child,
    /** SIGTERM (a clean shutdown), then removes the data directory the launcher made. */
    async stop() {
      await end('SIGTERM');
      removeDir();
    },
    /** SIGKILL: a crash; the data directory stays for a restart. */
    kill: () => end('SIGKILL'),
  };
}
