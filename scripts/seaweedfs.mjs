#!/usr/bin/env node
// A throwaway S3-compatible server for the tests: SeaweedFS (`weed server -s3`: master, volume,
// filer and S3 gateway in one process) on free loopback ports, in a temp dir, with one access key.
// The binary is built from the Go module proxy once, into a cache keyed by its version
// (~/.cache/tora/seaweedfs-<version>/weed); later runs reuse it. Needs Go (1.26) on a fresh machine.
//   node scripts/seaweedfs.mjs install  -> builds the binary when missing, prints its path
//   node scripts/seaweedfs.mjs start    -> prints JSON {endpoint, bucket, accessKeyId, secretAccessKey, dir, pid}
//   node scripts/seaweedfs.mjs stop DIR PID [GRPC_PORT…]
// Not `go install …/weed@version`: the module's go.mod has a replace directive, which go install
// refuses; the module is downloaded from the proxy and built in place instead.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './tora-process.mjs';

export const SEAWEEDFS_MODULE = 'github.com/seaweedfs/seaweedfs';
export const SEAWEEDFS_VERSION = 'v0.0.0-20261109003541-7506e5f91cd6';

export function weedPath() {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'tora', `seaweedfs-${SEAWEEDFS_VERSION}`, 'weed');
}

/** The cached binary, built from the module proxy first when missing (a few minutes on 2 cores). */
export function ensureWeed() {
  const target = weedPath();
  if (fs.existsSync(target)) return target;
  const started = Date.now();
  console.error(`SeaweedFS ${SEAWEEDFS_VERSION}: not in ${path.dirname(target)}, building it from the Go module proxy…`);
  let go;
  try {
    go = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('SeaweedFS (the tests’ S3 server) is built with Go: install Go 1.26 or newer and run again');
  }
  const info = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `${SEAWEEDFS_MODULE}@${SEAWEEDFS_VERSION}`], { encoding: 'utf8' }),
  );
  if (!info.Dir) throw new Error(`go mod download found no ${SEAWEEDFS_MODULE}@${SEAWEEDFS_VERSION}: ${info.Error ?? ''}`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Built beside the target and renamed into place: a concurrent or cut build never leaves half a binary.
  const partial = `${target}.${process.pid}.part`;
  try {
    execFileSync('go', ['build', '-o', partial, './weed'], { cwd: info.Dir, stdio: ['ignore', 'ignore', 'inherit'] });
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  console.error(`SeaweedFS built with ${go} in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  return target;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts SeaweedFS with one bucket and one key; returns once the bucket takes requests. */
export async function startSeaweed({ bucket = 'tora-test' } = {}) {
  const weed = ensureWeed();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-s3-'));
  const accessKeyId = `tora${randomBytes(8).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');
  const config = {
    identities: [
      {
        name: 'tora',
        credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
        actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 's3.json'), JSON.stringify(config));
  fs.mkdirSync(path.join(dir, 'data'));
  const ports = {};
  for (const name of ['master', 'masterGrpc', 'volume', 'volumeGrpc', 'filer', 'filerGrpc', 's3', 's3Grpc'])
    ports[name] = await freePort();
  fs.mkdirSync(path.join(dir, 'logs'));
  const args = [
    // Its log files in its own directory (glog's default is the temp dir, left behind); a global flag.
    `-logdir=${path.join(dir, 'logs')}`,
    'server',
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-dir=${path.join(dir, 'data')}`,
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    '-master.volumeSizeLimitMB=64',
    '-master.telemetry=false',
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    '-volume.max=32',
    '-filer',
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    // Its sockets in its own directory, not /tmp's fixed names (removed with it).
    `-filer.localSocket=${path.join(dir, 'filer.sock')}`,
    `-s3.localSocket=${path.join(dir, 's3.sock')}`,
    '-s3',
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-s3.config=${path.join(dir, 's3.json')}`,
  ];
  const log = fs.openSync(path.join(dir, 'log'), 'a');
  const child = spawn(weed, args, { cwd: dir, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid;
  const grpcPorts = [ports.masterGrpc, ports.volumeGrpc, ports.filerGrpc, ports.s3Grpc];
  const endpoint = `http://127.0.0.1:${ports.s3}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // The gateway answers before the filer and volume servers do: the bucket is made (retrying) once all do.
  const deadline = Date.now() + 120_000;
  let lastError;
  try {
    for (;;) {
      if (child.exitCode !== null) break;
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        return { endpoint, bucket, accessKeyId, secretAccessKey, dir, pid, grpcPorts };
      } catch (err) {
        if (err?.name === 'BucketAlreadyOwnedByYou' || err?.name === 'BucketAlreadyExists') {
          return { endpoint, bucket, accessKeyId, secretAccessKey, dir, pid, grpcPorts };
        }
        lastError = err;
      }
      if (Date.now() > deadline) break;
      await sleep(250);
    }
  } finally {
    client.destroy();
  }
  const tail = fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000);
  stopSeaweed({ dir, pid, grpcPorts });
  throw new Error(`SeaweedFS did not start (${lastError?.message ?? 'it exited'}):\n${tail}`);
}

/**
 * Stops the server (its whole process group) and removes its directory, and the gRPC sockets
 * `weed server` makes in /tmp whatever the options (/tmp/seaweedfs-<service>-grpc-<port>.sock).
 */
export function stopSeaweed({ dir, pid, grpcPorts = [] }) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
  fs.rmSync(dir, { recursive: true, force: true });
  for (const service of ['master', 'volume', 'filer', 's3']) {
    for (const port of grpcPorts) fs.rmSync(`/tmp/seaweedfs-${service}-grpc-${port}.sock`, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, dir, pid, ...grpcPorts] = process.argv.slice(2);
  if (command === 'install') console.log(ensureWeed());
  else if (command === 'start') console.log(JSON.stringify(await startSeaweed()));
  else if (command === 'stop' && dir && pid) stopSeaweed({ dir, pid: Number(pid), grpcPorts: grpcPorts.map(Number) });
  else {
    console.error('usage: seaweedfs.mjs install | start | stop DIR PID [GRPC_PORT…]');
    process.exit(2);
  }
}
