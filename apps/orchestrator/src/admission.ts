import { open } from 'node:fs/promises';
import type { RequestHandler } from 'express';
import { FIRST_STEP_INPUTS, STEPS, detectMediaType, type StepName } from '@docproc/catalog';
import { queuedOf, queueSignals, type StepQueues } from '@docproc/batches';
import { staleAfterMs, stepCapabilities } from '@docproc/runtime';
import type { RedisClient } from '@docproc/runtime';
import { HttpError, badRequest } from './http-error';

/** Tasks queued over every step queue (batches' queuedOf: waiting, prioritized, in backoff), read at most once a second. */
export function backlogGauge(queues: StepQueues, redis: RedisClient): () => Promise<number> {
  let cached: { at: number; value: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < 1000) return cached.value;
    const signals = await Promise.all(STEPS.map((step) => queueSignals(queues.get(step), redis)));
    const value = signals.reduce((sum, q) => sum + queuedOf(q), 0);
    cached = { at: Date.now(), value };
    return value;
  };
}

/** Answers 429 with Retry-After, before the upload is read, while the backlog is over `maxBacklog`. */
export function refuseWhenBusy(backlog: () => Promise<number>, maxBacklog: number): RequestHandler {
  return async (_req, _res, next) => {
    try {
      const waiting = await backlog();
      if (waiting < maxBacklog) return next();
      next(
        new HttpError(
          429,
          'busy',
          `${waiting} tasks are waiting, over the limit of ${maxBacklog}: try again later`,
          { waiting, maxBacklog },
          { 'Retry-After': '30' },
        ),
      );
    } catch (err) {
      next(err);
    }
  };
}

/** The media type of an uploaded file from its first bytes (null for a type docproc does not read). */
export async function uploadedType(upload: { buffer?: Buffer; path?: string }): Promise<string | null> {
  // One byte past the text sample, so a multi-byte character cut at its end still reads as text.
  if (upload.buffer) return detectMediaType(upload.buffer.subarray(0, 64 * 1024 + 1));
  const file = await open(upload.path!, 'r');
  try {
    const head = Buffer.alloc(64 * 1024 + 1);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return detectMediaType(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/** Refuses a pipeline whose first step cannot read one of the files (`pipeline=nlp` on a PNG). */
export function checkFirstStepTakes(first: StepName, files: { name: string; type: string | null }[]): void {
  const accepted = FIRST_STEP_INPUTS[first];
  if (accepted === null) return;
  const refused = files.filter((f) => f.type === null || !accepted.includes(f.type));
  if (refused.length === 0) return;
  const [one] = refused;
  throw badRequest(
    `a pipeline that starts with ${first} reads ${accepted.join(', ')}; "${one!.name}" is ${one!.type ?? 'of a type docproc does not read'}` +
      (refused.length > 1 ? ` (and ${refused.length - 1} more files)` : '') +
      (first !== 'preprocess' ? ': start the pipeline with preprocess' : ''),
    { files: refused.slice(0, 20).map((f) => ({ name: f.name, type: f.type })) },
  );
}

/** Refuses OCR languages the OCR workers do not have (as they announced them); passes when no OCR worker ever started. */
export async function checkLanguages(redis: RedisClient, prefix: string, heartbeatMs: number, languages: string[] | undefined): Promise<void> {
  if (!languages) return;
  const ocr = await stepCapabilities(redis, prefix, 'ocr', staleAfterMs(heartbeatMs));
  const installed = ocr?.languages;
  if (!installed) return;
  const missing = languages.filter((lang) => !installed.includes(lang));
  if (missing.length > 0) {
    throw badRequest(
      `OCR language${missing.length > 1 ? 's' : ''} ${missing.map((l) => `"${l}"`).join(', ')} not installed; installed: ${installed.join(', ')}`,
      {
        missing,
        installed,
      },
    );
  }
}
