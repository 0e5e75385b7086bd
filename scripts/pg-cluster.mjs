#!/usr/bin/env node
// Starts (or stops) a throwaway PostgreSQL 15 cluster in a temp dir on a free loopback port,
// from the machine's binaries. Used by the test suites and benchmarks; no Docker needed.
//   node scripts/pg-cluster.mjs start   -> prints JSON {url, dir, port}
//   node scripts/pg-cluster.mjs stop DIR
// stopServer/startServer stop and start the same cluster again (same port and directory): the
// server's tests restart PostgreSQL under a running Tora with them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const BIN = process.env.TORA_PG_BIN || '/usr/lib/postgresql/15/bin';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user.
function run(cmd, args) {
  const full = path.join(BIN, cmd);
  if (process.getuid && process.getuid() === 0) {
    return execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'pipe' });
  }
  return execFileSync(full, args, { stdio: 'pipe' });
}

export async function startCluster() {
  if (!fs.existsSync(path.join(BIN, 'initdb'))) {
    throw new Error(`PostgreSQL binaries not found in ${BIN} (set TORA_PG_BIN)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-pg-'));
  fs.chmodSync(dir, 0o755);
  if (process.getuid && process.getuid() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  startServer(dir, port);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir, port };
}

/** Starts the cluster in `dir` (made by startCluster) on `port`; returns once it accepts connections. */
export function startServer(dir, port) {
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=256MB`;
  run('pg_ctl', ['-D', path.join(dir, 'data'), '-o', opts, '-l', path.join(dir, 'log'), '-w', 'start']);
}

/** Stops the cluster in `dir`, keeping its data: `fast` ends every session as a restart or failover does. */
export function stopServer(dir, mode = 'fast') {
  run('pg_ctl', ['-D', path.join(dir, 'data'), '-m', mode, '-w', 'stop']);
}

export function stopCluster(dir) {
  try {
    run('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, dir] = process.argv.slice(2);
  if (command === 'start') console.log(JSON.stringify(await startCluster()));
  else if (command === 'stop' && dir) stopCluster(dir);
  else {
    console.error('usage: pg-cluster.mjs start | stop DIR');
    process.exit(2);
  }
}
