import express, { Router } from 'express';
import type { Definitions } from '@docproc/batches';
import type { z } from 'zod';
import type { Logger } from '@docproc/runtime';
import { badRequest, notFound } from './http-error';
import { issuesOf } from './submission';

/** Examples and rules are text: thousands of them fit well within this. */
const DEFINITION_BODY_LIMIT = '20mb';

/**
 * /v1/classifiers and /v1/rulesets: definitions stored by name for jobs to name. Storing
 * one under a taken name replaces it (201 when new, 200 when replaced).
 */
export function definitionRoutes<R extends { name: string }, S extends R & { createdAt: string }>(options: {
  /** "classifier" or "rule set": what messages call one. */
  noun: string;
  request: z.ZodType<R>;
  store: Definitions<S>;
  /** What the API shows of a stored one. */
  view: (stored: S) => unknown;
  logger: Logger;
}): Router {
  const { noun, request, store, view, logger } = options;
  const router = Router();

  router.post('/', express.json({ limit: DEFINITION_BODY_LIMIT }), async (req, res) => {
    const parsed = request.safeParse(req.body);
    if (!parsed.success) throw badRequest(`the ${noun} is not valid`, issuesOf(parsed.error));
    const replaced = await store.has(parsed.data.name);
    const stored = { ...parsed.data, createdAt: new Date().toISOString() } as S;
    await store.put(stored);
    logger.info(`${noun} stored`, { name: stored.name, replaced });
    res
      .status(replaced ? 200 : 201)
      .location(`${req.baseUrl}/${stored.name}`)
      .json(view(stored));
  });

  router.get('/', async (_req, res) => {
    res.json({ items: (await store.list()).map(view) });
  });

  router.get('/:name', async (req, res) => {
    const stored = await store.get(req.params.name);
    if (!stored) throw notFound(`no ${noun} ${req.params.name}`);
    res.json(view(stored));
  });

  router.delete('/:name', async (req, res) => {
    if (!(await store.delete(req.params.name))) throw notFound(`no ${noun} ${req.params.name}`);
    res.status(204).end();
  });

  return router;
}
