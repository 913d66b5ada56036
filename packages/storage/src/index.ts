export { type BlobStore, BlobNotFoundError, putJson, getJson } from './blob-store';
export { LocalBlobStore } from './local-blob-store';
export { partKey } from './blob-parts';
export type { S3BlobStoreOptions } from './s3-blob-store';
export * from './keys';
export { createS3BlobStore, openBlobStore } from './open-blob-store';
