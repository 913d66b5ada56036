import { Readable } from 'node:stream';
import { BlobNotFoundError, type BlobStore } from './blob-store';

/**
 * A part of a blob. The small documents of a batch are stored packed, one blob for the
 * batch — one write for thousands of files, on a disk or in a bucket — and each document's
 * key names its bytes in the pack: "<pack key>@<start>+<length>". Both stores read such a
 * key as the part (get, size, exists, createReadStream), so what reads a document need not
 * know it was packed.
 */
export interface BlobPart {
  key: string;
  start: number;
  length: number;
}

const PART = /^(.+)@(\d+)\+(\d+)$/;

export const partKey = (key: string, start: number, length: number) => `${key}@${start}+${length}`;

export function partOf(key: string): BlobPart | undefined {
  const match = PART.exec(key);
  return match ? { key: match[1]!, start: Number(match[2]), length: Number(match[3]) } : undefined;
}

/** The bytes `range` (inclusive, as fs streams count; all when none) of a part, as a range of its pack. */
function rangeInPack(part: BlobPart, range?: { start: number; end: number }): { start: number; end: number } {
  const last = part.start + part.length - 1;
  if (!range) return { start: part.start, end: last };
  return { start: part.start + range.start, end: Math.min(last, part.start + range.end) };
}

/** A part's bytes as a stream (an empty part: an empty stream; stores refuse an empty range). */
export function readPartStream(store: BlobStore, part: BlobPart, range?: { start: number; end: number }): Readable {
  const inPack = rangeInPack(part, range);
  return inPack.end < inPack.start ? Readable.from([]) : store.createReadStream(part.key, inPack);
}

/** A part's bytes; a pack cut short of the part is as good as missing. */
export async function readPart(store: BlobStore, part: BlobPart): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readPartStream(store, part)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== part.length) throw new BlobNotFoundError(partKey(part.key, part.start, part.length));
  return bytes;
}
