/**
 * `bash scripts/start.sh`, the README's first command: with nothing changed since the last start it
 * is serving within 10 s (no reinstall, no rebuild), and a taken port is one clear line before
 * any work. Runs after scripts/test-web.sh built the server and the web app.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT, freePort } from './harness.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-start-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

// npm must not run when nothing changed; were it called anyway, this stand-in says so and fails
// (rather than letting `npm ci` replace the node_modules this very test runs from).
const guard = path.join(scratch, 'bin');
fs.mkdirSync(guard);
fs.writeFileSync(path.join(guard, 'npm'), '#!/bin/sh\necho "npm was called: $*" >&2\nexit 97\n', { mode: 0o755 });

function env(port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${guard}:${process.env.PATH ?? ''}`,
    TORA_PORT: String(port),
    TORA_HOST: '127.0.0.1',
    TORA_DATA_DIR: path.join(scratch, `data-${port}`),
    TORA_CONFIG_DIR: path.join(scratch, `config-${port}`),
    TORA_LOG_LEVEL: 'warn',
  };
}

test('with nothing changed, start.sh serves within 10 s and installs or builds nothing', async () => {
  const port = await freePort();
  const started = Date.now();
  const child = spawn('bash', ['scripts/start.sh'], { cwd: ROOT, env: env(port), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    let healthy = false;
    while (!healthy && Date.now() - started < 20_000 && child.exitCode === null) {
      healthy = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    assert.ok(healthy, `not serving after ${seconds} s:\n${output}`);
    assert.ok(seconds <= 10, `took ${seconds} s:\n${output}`);
    assert.doesNotMatch(output, /installing|building|npm was called/);
    assert.ok((await fetch(`http://127.0.0.1:${port}/`)).ok, 'the web app is served');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
});

test('a port in use is one clear line naming it and TORA_PORT, before any work', async () => {
  const port = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
  try {
    const started = Date.now();
    const res = spawnSync('bash', ['scripts/start.sh'], { cwd: ROOT, env: env(port), encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(res.status, 0);
    assert.equal(res.stdout, '');
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0]!, new RegExp(`port ${port} .*already in use.*TORA_PORT`));
    assert.ok(Date.now() - started < 5_000);
  } finally {
    blocker.close();
  }
});
