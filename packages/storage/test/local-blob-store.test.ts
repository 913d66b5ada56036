import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobNotFoundError, LocalBlobStore, getJson, putJson } from '@docproc/storage';

describe('LocalBlobStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'docproc-blobs-'));
  const store = new LocalBlobStore(root);

  it('stores and reads bytes and JSON', async () => {
    await store.put('batches/b1/documents/d1/original', Buffer.from('hello'));
    expect((await store.get('batches/b1/documents/d1/original')).toString()).toBe('hello');
    expect(await store.size('batches/b1/documents/d1/original')).toBe(5);
    await putJson(store, 'batches/b1/r.json', { a: 1 });
    expect(await getJson(store, 'batches/b1/r.json')).toEqual({ a: 1 });
  });

  it('moves a file in', async () => {
    const source = join(root, 'upload.tmp');
    writeFileSync(source, 'uploaded');
    await store.putFile('batches/b2/original', source);
    expect(existsSync(source)).toBe(false);
    expect((await store.get('batches/b2/original')).toString()).toBe('uploaded');
  });

  it('says which key is missing', async () => {
    await expect(store.get('batches/none')).rejects.toThrow(BlobNotFoundError);
    expect(await store.exists('batches/none')).toBe(false);
  });

  it('refuses keys that leave the root', async () => {
    await expect(store.put('../escape', 'x')).rejects.toThrow('invalid blob key');
    await expect(store.put('a/../../b', 'x')).rejects.toThrow('invalid blob key');
    await expect(store.put('/abs', 'x')).rejects.toThrow('invalid blob key');
  });

  it('deletes a prefix', async () => {
    await store.put('batches/b3/x', 'x');
    await store.put('batches/b3/y/z', 'z');
    await store.deletePrefix('batches/b3');
    expect(await store.exists('batches/b3/x')).toBe(false);
    expect(await store.exists('batches/b1/r.json')).toBe(true);
  });
});
