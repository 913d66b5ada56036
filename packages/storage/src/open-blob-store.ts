import type { Config } from '@docproc/config';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import type { S3BlobStoreOptions } from './s3-blob-store';

type BlobSettings = Pick<Config, 'blobStore' | 'dataDir' | 's3Bucket' | 's3Prefix' | 's3Endpoint' | 's3Region' | 's3ForcePathStyle'>;

/** The S3 store. The AWS SDK takes about half a second to load: only processes that use S3 load it. */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { S3BlobStore } = require('./s3-blob-store') as typeof import('./s3-blob-store');
  return new S3BlobStore(options);
}

/** The blob store the configuration names: every app opens its store here. */
export function openBlobStore(config: BlobSettings): BlobStore {
  if (config.blobStore === 'local') return new LocalBlobStore(config.dataDir);
  return createS3BlobStore({
    bucket: config.s3Bucket!,
    prefix: config.s3Prefix,
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: config.s3ForcePathStyle,
  });
}
