import type { Config } from '@docproc/config';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';

type BlobSettings = Pick<Config, 'blobStore' | 'dataDir' | 's3Bucket' | 's3Prefix' | 's3Endpoint' | 's3Region' | 's3ForcePathStyle'>;

/** The blob store the configuration names: every app opens its store here. */
export function openBlobStore(config: BlobSettings): BlobStore {
  if (config.blobStore === 'local') return new LocalBlobStore(config.dataDir);
  return new S3BlobStore({
    bucket: config.s3Bucket!,
    prefix: config.s3Prefix,
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: config.s3ForcePathStyle,
  });
}
