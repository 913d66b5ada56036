/**
 * The thread behind scannedImages (pdf-scans.ts): pdf-lib parses each PDF it is sent here,
 * away from the worker's event loop, and answers with its scans, page by page (their
 * memory handed over, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { scannedImagesHere } from './pdf-scans';

/** A buffer with an ArrayBuffer of its own, to hand over without copying. */
const own = (bytes: Buffer) => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes));

parentPort!.on('message', (bytes: Uint8Array) => void answer(bytes));

async function answer(bytes: Uint8Array): Promise<void> {
  const found = await scannedImagesHere(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const images = found.map(
    (image) => image && (image.kind === 'raw' ? { ...image, pixels: own(image.pixels) } : { ...image, bytes: own(image.bytes) }),
  );
  const transfer = images.flatMap((image) => (image ? [(image.kind === 'raw' ? image.pixels : image.bytes).buffer as ArrayBuffer] : []));
  parentPort!.postMessage(images, transfer);
}
