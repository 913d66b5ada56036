import express, { Router } from 'express';
import { classifierRequestSchema, classifierView, type StoredClassifier } from '@docproc/catalog';
import type { AppDeps } from './deps';
import { storedClassifiers } from './definitions';
import { badRequest, notFound } from './http-error';
import { issuesOf } from './submission';

/** Labelled examples are text: a few thousand of them fit well within this. */
const CLASSIFIER_BODY_LIMIT = '20mb';

/**
 * /v1/classifiers: classifiers stored by name from labelled examples, for jobs to name in
 * `options.classify.classifier`. Storing one under a taken name replaces it (NLP workers
 * retrain when its `createdAt` changes).
 */
export function classifiersRoutes(deps: AppDeps): Router {
  const classifiers = storedClassifiers(deps);
  const router = Router();

  router.post('/', express.json({ limit: CLASSIFIER_BODY_LIMIT }), async (req, res) => {
    const parsed = classifierRequestSchema.safeParse(req.body);
    if (!parsed.success) throw badRequest('the classifier is not valid', issuesOf(parsed.error));
    const replaced = await classifiers.has(parsed.data.name);
    const stored: StoredClassifier = { ...parsed.data, createdAt: new Date().toISOString() };
    await classifiers.put(stored);
    deps.logger.info('classifier stored', { name: stored.name, algorithm: stored.algorithm, labels: Object.keys(stored.labels).length, replaced });
    res
      .status(replaced ? 200 : 201)
      .location(`/v1/classifiers/${stored.name}`)
      .json(classifierView(stored));
  });

  router.get('/', async (_req, res) => {
    res.json({ classifiers: (await classifiers.list()).map(classifierView) });
  });

  router.get('/:name', async (req, res) => {
    const stored = await classifiers.get(req.params.name);
    if (!stored) throw notFound(`no classifier ${req.params.name}`);
    res.json(classifierView(stored));
  });

  router.delete('/:name', async (req, res) => {
    if (!(await classifiers.delete(req.params.name))) throw notFound(`no classifier ${req.params.name}`);
    res.status(204).end();
  });

  return router;
}
