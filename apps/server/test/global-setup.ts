import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain ESM script shared with the benchmarks, no types
import { startCluster, stopCluster } from '../../../scripts/pg-cluster.mjs';
// @ts-expect-error plain ESM script, no types
import { startSeaweed, stopSeaweed } from '../../../scripts/seaweedfs.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    /** Every temporary directory of this run lives under it; removed when the run ends. */
    tmpRoot: string;
    /** The run's S3-compatible server (SeaweedFS) and its one bucket and key. */
    s3: S3Server;
  }
}

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * One throwaway PostgreSQL cluster for the whole run (each test file makes its own database in
 * it), one S3-compatible server (each test its own key prefix in its one bucket; built from the Go
 * module proxy on a machine that has not cached it yet), and one temporary root for every data
 * directory the tests make: removed at the end even when a test failed before its own cleanup.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const seaweed = (await startSeaweed()) as S3Server & { dir: string; pid: number; grpcPorts: number[] };
  project.provide('s3', {
    endpoint: seaweed.endpoint,
    bucket: seaweed.bucket,
    accessKeyId: seaweed.accessKeyId,
    secretAccessKey: seaweed.secretAccessKey,
  });
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-test-'));
  project.provide('tmpRoot', tmpRoot);
  const removeRoot = () => {
    stopSeaweed(seaweed);
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  };
  const external = process.env.TORA_TEST_DATABASE_URL;
  if (process.env.DIALECTS && !process.env.DIALECTS.includes('postgres')) {
    project.provide('pgUrl', '');
    return removeRoot;
  }
  if (external) {
    project.provide('pgUrl', external);
    return removeRoot;
  }
  let cluster: { url: string; dir: string };
  try {
    cluster = (await startCluster()) as { url: string; dir: string };
  } catch (err) {
    removeRoot();
    throw err;
  }
  project.provide('pgUrl', cluster.url);
  return () => {
    try {
      stopCluster(cluster.dir);
    } finally {
      removeRoot();
    }
  };
}
