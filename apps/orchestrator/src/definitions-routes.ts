import express, { Router, type Request, type Response } from 'express';
import { SHARED, type DefinitionOwner, type Definitions } from '@docproc/batches';
import type { z } from 'zod';
import type { Logger } from '@docproc/runtime';
import { forbidden, principalOf } from './auth';
import { badRequest, notFound } from './http-error';
import { issuesOf } from './submission';

/** Examples and rules are text: thousands of them fit well within this. */
const DEFINITION_BODY_LIMIT = '20mb';

/**
 * Whose definitions a request means: its tenant's, or with `?shared=true` the shared set —
 * which every key reads and only an administrator changes.
 */
function ownerOf(req: Request, res: Response, changes: boolean): DefinitionOwner {
  const principal = principalOf(res);
  if (req.query.shared !== 'true') return principal.tenant;
  if (changes && !principal.roles.includes('admin')) throw forbidden(principal, ['admin']);
  return SHARED;
}

/**
 * /v1/classifiers and /v1/rulesets: definitions stored by name for jobs to name, each
 * tenant's own and a shared set. Storing one under a taken name replaces it (201 when new,
 * 200 when replaced).
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
    const owner = ownerOf(req, res, true);
    const replaced = (await store.get(owner, parsed.data.name)) !== null;
    const stored = { ...parsed.data, createdAt: new Date().toISOString() } as S;
    await store.put(owner, stored);
    logger.info(`${noun} stored`, { name: stored.name, replaced, owner: owner ?? 'shared', key: principalOf(res).keyId });
    res
      .status(replaced ? 200 : 201)
      .location(`${req.baseUrl}/${stored.name}`)
      .json(view(stored));
  });

  router.get('/', async (_req, res) => {
    const own = await store.list(principalOf(res).tenant);
    const names = new Set(own.map((d) => d.name));
    const shared = (await store.list(SHARED)).filter((d) => !names.has(d.name));
    res.json({ items: own.map(view), shared: shared.map(view) });
  });

  /** The tenant's own, else the shared one (as a job naming it would get). */
  router.get('/:name', async (req, res) => {
    const stored =
      req.query.shared === 'true' ? await store.get(SHARED, req.params.name) : await store.find(principalOf(res).tenant, req.params.name);
    if (!stored) throw notFound(`no ${noun} ${req.params.name}`);
    res.json(view(stored));
  });

  router.delete('/:name', async (req, res) => {
    const owner = ownerOf(req, res, true);
    if (!(await store.delete(owner, req.params.name))) throw notFound(`no ${noun} ${req.params.name}`);
    logger.info(`${noun} deleted`, { name: req.params.name, owner: owner ?? 'shared', key: principalOf(res).keyId });
    res.status(204).end();
  });

  return router;
}
