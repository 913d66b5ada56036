/**
 * The thread behind scannedImages and decodeScan (pdf-scans.ts): pdf-lib parses each PDF it
 * is sent here, and pdf.js's JBIG2 decoder reads JBIG2 images, away from the worker's event
 * loop. Answers hand their memory over, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { answerHere, type ScansAnswer, type ScansRequest } from './pdf-scans';

parentPort!.on('message', (request: ScansRequest) => void answer(request));

async function answer(request: ScansRequest): Promise<void> {
  let answer: ScansAnswer;
  try {
    answer = await answerHere(request);
  } catch (err) {
    answer = { error: (err as Error).message };
  }
  parentPort!.postMessage(answer, buffersOf(answer));
}

/** The answer's buffers, each given an ArrayBuffer of its own so that it can be handed over. */
function buffersOf(answer: ScansAnswer): ArrayBuffer[] {
  const own = (bytes: Uint8Array): Uint8Array =>
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.from(bytes);
  const out: ArrayBuffer[] = [];
  const take = <T extends Uint8Array>(bytes: T): T => {
    const owned = own(bytes) as T;
    out.push(owned.buffer as ArrayBuffer);
    return owned;
  };
  if ('tiff' in answer) answer.tiff = take(answer.tiff);
  if ('images' in answer) {
    answer.images = answer.images.map((image) => {
      if (!image) return null;
      if (image.kind === 'jbig2') return { ...image, bytes: take(image.bytes), globals: image.globals && take(image.globals) };
      return { ...image, bytes: take(image.bytes) };
    });
  }
  return out;
}
