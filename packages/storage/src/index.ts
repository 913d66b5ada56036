export { type BlobStore, BlobNotFoundError, putJson, getJson } from './blob-store';
export { LocalBlobStore } from './local-blob-store';
export * from './keys';
