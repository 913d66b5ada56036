import type { Readable } from 'node:stream';

/**
 * Where document bytes and step results live. Keys are slash-separated paths
 * ("batches/<id>/documents/<id>/original"). The local directory store is the
 * default; an S3-compatible store implements the same interface.
 */
export interface BlobStore {
  put(key: string, data: Buffer | string): Promise<void>;
  /**
   * Writes a blob under a key that is new and that nobody reads before this returns (an
   * upload being stored): no atomic replace is needed, so it costs one write, not two.
   */
  create(key: string, data: Buffer): Promise<void>;
  /** Moves a local file (an upload) into the store. */
  putFile(key: string, sourcePath: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** The blob's bytes as a stream; `range` (inclusive, as fs streams count) reads a part. */
  createReadStream(key: string, range?: { start: number; end: number }): Readable;
  exists(key: string): Promise<boolean>;
  size(key: string): Promise<number>;
  /** Removes every blob whose key starts with `prefix/`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Throws, saying why, when the store cannot be used (a missing bucket, refused credentials): apps check at start. */
  check(): Promise<void>;
  /** Lets go of connections. */
  close(): void;
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Returns the key if it is a plain relative path (no "..", ".", empty or absolute parts); throws otherwise. */
export function checkedBlobKey(key: string): string {
  if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`invalid blob key "${key}"`);
  }
  return key;
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
  constructor(readonly key: string) {
    super(`no blob at "${key}"`);
  }
}

export async function putJson(store: BlobStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value));
}

export async function getJson<T = unknown>(store: BlobStore, key: string): Promise<T> {
  return JSON.parse((await store.get(key)).toString('utf8')) as T;
}
