import { Definitions } from '@docproc/batches';
import type { JobOptions, StoredClassifier } from '@docproc/catalog';
import type { AppDeps } from './deps';
import { badRequest } from './http-error';

export const storedClassifiers = (deps: Pick<AppDeps, 'redis' | 'config'>) =>
  new Definitions<StoredClassifier>(deps.redis, deps.config.keyPrefix, 'classifiers');

/** Refuses a job that names a classifier nobody stored: it could only fail every document. */
export async function checkDefinitions(deps: Pick<AppDeps, 'redis' | 'config'>, options: JobOptions): Promise<void> {
  const classify = options.classify;
  if (classify && 'classifier' in classify && !(await storedClassifiers(deps).has(classify.classifier))) {
    throw badRequest(`no classifier ${classify.classifier}: store it with POST /v1/classifiers first`, [
      { path: 'options.classify.classifier', message: 'no such classifier' },
    ]);
  }
}
