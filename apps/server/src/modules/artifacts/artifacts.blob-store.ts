import type { Config } from '../../config.js';
import { s3Store } from './artifacts.s3-store.js';
import type { BlobStore } from '../../lib/blob-store.js';
import { artifactStore } from './artifacts.store.js';

/** The blob store the configuration names: the directory under TORA_DATA_DIR, or an S3-compatible bucket. */
export function blobStoreFor(config: Pick<Config, 'dataDir' | 'artifactStore'>): BlobStore {
  return config.artifactStore.kind === 's3' ? s3Store(config.artifactStore) : artifactStore(config);
}
