import type { Config, S3StoreConfig } from '../../config.js';
import type { BlobStore } from '../../lib/blob-store.js';
import { artifactStore } from './artifacts.store.js';

/** The blob store the configuration names: the directory under TORA_DATA_DIR, or an S3-compatible bucket. */
export function blobStoreFor(config: Pick<Config, 'dataDir' | 'artifactStore'>): BlobStore {
  return config.artifactStore.kind === 's3' ? lazyS3Store(config.artifactStore) : artifactStore(config);
}

/**
 * The S3 store, its module (and the AWS SDK under it: ~0.3 s and ~27 MB of a process) loaded on
 * first use, so a server or CLI command on the directory store never loads it.
 */
function lazyS3Store(config: S3StoreConfig): BlobStore {
  let loaded: BlobStore | null = null;
  let loading: Promise<BlobStore> | null = null;
  let closed = false;
  const store = (): Promise<BlobStore> =>
    (loading ??= import('./artifacts.s3-store.js').then((m) => {
      loaded = m.s3Store(config);
      if (closed) loaded.close(); // closed while loading: its requests fail as a closed store's do
      return loaded;
    }));
  return {
    write: async (key, body, opts) => (await store()).write(key, body, opts),
    open: async (key, range) => (await store()).open(key, range),
    stat: async (key) => (await store()).stat(key),
    list: async (key) => (await store()).list(key),
    remove: async (key) => (await store()).remove(key),
    usage: async (key) => (await store()).usage(key),
    sweepParts: async (olderThan) => (await store()).sweepParts(olderThan),
    check: async () => (await store()).check(),
    close: () => {
      closed = true;
      loaded?.close();
    },
  };
}
