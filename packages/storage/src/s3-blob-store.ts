import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobNotFoundError, checkedBlobKey, type BlobStore } from './blob-store';
import { partOf, readPart, readPartStream } from './blob-parts';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Keys are stored under this prefix ("docproc/" → "docproc/batches/..."); empty for none. */
  prefix?: string;
  /** An S3-compatible endpoint (MinIO, Ceph, R2...); AWS's by default. */
  endpoint?: string;
  /** Else the AWS chain's (AWS_REGION, the profile). */
  region?: string;
  /** Path-style URLs (endpoint/bucket/key), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  /** Attempts of a call that failed for a passing reason (the SDK's retry with backoff). */
  maxAttempts?: number;
  /** Anything else for the client; credentials come from the standard AWS chain unless given here. */
  client?: Partial<S3ClientConfig>;
}

/** Above this size a blob goes up in parts, several at once (S3's parts are 5 MiB at least). */
const MULTIPART_BYTES = 8 * 1024 * 1024;

const DELETE_BATCH = 250;

const isMissing = (err: unknown) =>
  err instanceof NoSuchKey || err instanceof NotFound || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

/**
 * Blobs in an S3-compatible bucket: what the platform needs once its apps run on more
 * than one machine (the local store is one machine's directory). Each write is one
 * object PUT, which S3 makes visible whole or not at all; large ones go up as a
 * multipart upload. Made through createS3BlobStore, which loads this module on first use.
 *
 * @public
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint?: string;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.endpoint = options.endpoint;
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
    // The SDK warns once a process that SDK releases after January 2027 will want Node 22: the
    // version pinned here runs on Node 20 (the platform's), and a warning in every app's log
    // is not something its operators can act on. Upgrading the SDK is ours (docs/architecture.md).
    // eslint-disable-next-line no-restricted-properties -- not a setting read: the SDK's own switch, set for it
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? false,
      maxAttempts: options.maxAttempts ?? 5,
      // S3-compatible servers (MinIO, Ceph, R2...) do not all take the checksums newer SDKs
      // add to every request; AWS itself gets the SDK's default.
      ...(options.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
      ...options.client,
    });
  }

  private keyOf(key: string): string {
    return this.prefix + checkedBlobKey(key);
  }

  async put(key: string, data: Buffer | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    if (body.length > MULTIPART_BYTES) return this.upload(key, body);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: body }));
  }

  async create(key: string, data: Buffer): Promise<void> {
    await this.put(key, data);
  }

  async putFile(key: string, sourcePath: string): Promise<void> {
    await this.upload(key, createReadStream(sourcePath));
    await unlink(sourcePath).catch(() => undefined);
  }

  private async upload(key: string, body: Buffer | Readable): Promise<void> {
    // Parts of 8 MiB, four at once; a single part when the body is small.
    await new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.keyOf(key), Body: body },
      partSize: MULTIPART_BYTES,
      queueSize: 4,
    }).done();
  }

  async get(key: string): Promise<Buffer> {
    const part = partOf(key);
    if (part) return readPart(this, part);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    const part = partOf(key);
    if (part) return readPartStream(this, part, range);
    const out = new PassThrough();
    const Key = this.keyOf(key);
    this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }))
      .then((object) => {
        const body = object.Body as Readable;
        body.on('error', (err) => out.destroy(err));
        body.pipe(out);
      })
      .catch((err: unknown) => out.destroy(isMissing(err) ? new BlobNotFoundError(key) : (err as Error)));
    return out;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(partOf(key)?.key ?? key) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async size(key: string): Promise<number> {
    const part = partOf(key);
    if (part) return part.length;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const Prefix = `${this.keyOf(prefix)}/`;
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      // S3 takes up to 1,000 keys per DeleteObjects; smaller batches spare servers that
      // delete them all at once (s3rver runs out of file handles at 1,000).
      for (let from = 0; from < keys.length; from += DELETE_BATCH) {
        const Objects = keys.slice(from, from + DELETE_BATCH);
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async check(): Promise<void> {
    const where = `S3 bucket "${this.bucket}"${this.endpoint ? ` at ${this.endpoint}` : ''}`;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) throw new Error(`${where} does not exist`, { cause: err });
      if (status === 403)
        throw new Error(`${where}: access denied (credentials come from the AWS chain: AWS_ACCESS_KEY_ID, a profile, a role)`, { cause: err });
      throw new Error(`${where} cannot be reached: ${(err as Error).message || (err as Error).name}`, { cause: err });
    }
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }
}
