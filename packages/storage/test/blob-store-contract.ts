import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobNotFoundError, getJson, partKey, putJson, type BlobStore } from '@docproc/storage';

const read = async (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
};

/** What every blob store does, the same way: run against each implementation. */
export function blobStoreContract(store: () => BlobStore): void {
  it('passes its own check', async () => {
    await expect(store().check()).resolves.toBeUndefined();
  });

  it('stores and reads bytes and JSON', async () => {
    await store().put('batches/b1/documents/d1/original', Buffer.from('hello'));
    expect((await store().get('batches/b1/documents/d1/original')).toString()).toBe('hello');
    expect(await store().size('batches/b1/documents/d1/original')).toBe(5);
    await putJson(store(), 'batches/b1/r.json', { a: 1 });
    expect(await getJson(store(), 'batches/b1/r.json')).toEqual({ a: 1 });
    await store().create('batches/b1/new', Buffer.from('created'));
    expect((await store().get('batches/b1/new')).toString()).toBe('created');
  });

  it('streams a blob whole or a range of it', async () => {
    await store().put('batches/b1/stream', 'abcdefghij');
    expect(await read(store().createReadStream('batches/b1/stream'))).toBe('abcdefghij');
    expect(await read(store().createReadStream('batches/b1/stream', { start: 2, end: 4 }))).toBe('cde');
    await expect(read(store().createReadStream('batches/none'))).rejects.toThrow();
  });

  it('reads a part of a pack as a blob of its own: whole, a range of it, its size, and an empty part', async () => {
    await store().create('batches/b4/originals.pack', Buffer.from('first|second|third'));
    const second = partKey('batches/b4/originals.pack', 6, 6);
    expect((await store().get(second)).toString()).toBe('second');
    expect(await store().size(second)).toBe(6);
    expect(await store().exists(second)).toBe(true);
    expect(await read(store().createReadStream(second))).toBe('second');
    expect(await read(store().createReadStream(second, { start: 1, end: 3 }))).toBe('eco');
    expect(await read(store().createReadStream(second, { start: 4, end: 100 }))).toBe('nd');
    const empty = partKey('batches/b4/originals.pack', 12, 0);
    expect((await store().get(empty)).length).toBe(0);
    expect(await read(store().createReadStream(empty))).toBe('');
    await expect(store().get(partKey('batches/b4/originals.pack', 13, 10))).rejects.toThrow(BlobNotFoundError); // past the pack's end
    expect(await store().exists(partKey('batches/none/originals.pack', 0, 1))).toBe(false);
    await expect(store().get(partKey('batches/none/originals.pack', 0, 1))).rejects.toThrow();
  });

  it('moves a file in', async () => {
    const source = join(mkdtempSync(join(tmpdir(), 'docproc-upload-')), 'upload.tmp');
    writeFileSync(source, 'uploaded');
    await store().putFile('batches/b2/original', source);
    expect(existsSync(source)).toBe(false);
    expect((await store().get('batches/b2/original')).toString()).toBe('uploaded');
  });

  it('says which key is missing', async () => {
    await expect(store().get('batches/none')).rejects.toThrow(BlobNotFoundError);
    await expect(store().size('batches/none')).rejects.toThrow(BlobNotFoundError);
    expect(await store().exists('batches/none')).toBe(false);
  });

  it('refuses keys that leave the root', async () => {
    await expect(store().put('../escape', 'x')).rejects.toThrow('invalid blob key');
    await expect(store().put('a/../../b', 'x')).rejects.toThrow('invalid blob key');
    await expect(store().put('/abs', 'x')).rejects.toThrow('invalid blob key');
  });

  it('deletes a prefix and nothing else', async () => {
    await store().put('batches/b3/x', 'x');
    await store().put('batches/b3/y/z', 'z');
    await store().put('batches/b30/kept', 'k');
    await store().deletePrefix('batches/b3');
    expect(await store().exists('batches/b3/x')).toBe(false);
    expect(await store().exists('batches/b3/y/z')).toBe(false);
    expect(await store().exists('batches/b30/kept')).toBe(true);
    expect(await store().exists('batches/b1/r.json')).toBe(true);
  });
}
