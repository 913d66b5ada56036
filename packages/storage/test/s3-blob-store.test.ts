import { createS3BlobStore, type BlobStore } from '@docproc/storage';
import { S3_TEST_CREDENTIALS, startS3Server, type S3TestServer } from '@docproc/testkit';
import { blobStoreContract } from './blob-store-contract';

/** The S3 store against an S3-protocol server (s3rver) this test starts on 127.0.0.1. */
describe('S3BlobStore', () => {
  let server: S3TestServer;
  let store: BlobStore;

  beforeAll(async () => {
    server = await startS3Server();
    store = createS3BlobStore({
      bucket: server.bucket,
      prefix: 'test',
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      client: { credentials: S3_TEST_CREDENTIALS },
    });
  });
  afterAll(async () => {
    store.close();
    await server.stop();
  });

  blobStoreContract(() => store);

  it('uploads a large blob in parts and reads it back whole', async () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 7);
    big.write('start', 0);
    big.write('end', big.length - 3);
    await store.put('batches/big/original', big);
    expect(await store.size('batches/big/original')).toBe(big.length);
    expect((await store.get('batches/big/original')).equals(big)).toBe(true);
  });

  it('deletes a prefix of more keys than one listing holds', async () => {
    for (let from = 0; from < 1010; from += 50) {
      await Promise.all(Array.from({ length: Math.min(50, 1010 - from) }, (_, i) => store.put(`batches/many/${from + i}`, 'x')));
    }
    await store.put('batches/many-more/kept', 'x');
    await store.deletePrefix('batches/many');
    expect(await store.exists('batches/many/0')).toBe(false);
    expect(await store.exists('batches/many/1009')).toBe(false);
    expect(await store.exists('batches/many-more/kept')).toBe(true);
  });

  it('says at the check what is wrong with a bucket that does not exist or a server that does not answer', async () => {
    const lost = createS3BlobStore({
      bucket: 'no-such-bucket',
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      client: { credentials: S3_TEST_CREDENTIALS },
    });
    await expect(lost.check()).rejects.toThrow(`S3 bucket "no-such-bucket" at ${server.endpoint} does not exist`);
    lost.close();
    const away = createS3BlobStore({
      bucket: 'docproc',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      client: { credentials: S3_TEST_CREDENTIALS },
    });
    await expect(away.check()).rejects.toThrow('S3 bucket "docproc" at http://127.0.0.1:9 cannot be reached');
    away.close();
  });
});
