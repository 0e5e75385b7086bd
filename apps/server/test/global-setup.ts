import type { TestProject } from 'vitest/node';
// @ts-expect-error plain ESM script shared with the benchmarks, no types
import { startCluster, stopCluster } from '../../../scripts/pg-cluster.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

/** One throwaway PostgreSQL cluster for the whole run; each test file makes its own database in it. */
export default async function setup(project: TestProject): Promise<() => void> {
  const external = process.env.TORA_TEST_DATABASE_URL;
  if (process.env.DIALECTS && !process.env.DIALECTS.includes('postgres')) {
    project.provide('pgUrl', '');
    return () => undefined;
  }
  if (external) {
    project.provide('pgUrl', external);
    return () => undefined;
  }
  const cluster = (await startCluster()) as { url: string; dir: string };
  project.provide('pgUrl', cluster.url);
  return () => stopCluster(cluster.dir);
}
