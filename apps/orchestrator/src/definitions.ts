import { Definitions } from '@docproc/batches';
import type { JobOptions, StoredClassifier, StoredRuleset } from '@docproc/catalog';
import type { AppDeps } from './deps';
import { badRequest } from './http-error';

export const storedClassifiers = (deps: Pick<AppDeps, 'redis' | 'config'>) =>
  new Definitions<StoredClassifier>(deps.redis, deps.config.keyPrefix, 'classifiers');

export const storedRulesets = (deps: Pick<AppDeps, 'redis' | 'config'>) =>
  new Definitions<StoredRuleset>(deps.redis, deps.config.keyPrefix, 'rulesets');

/**
 * Refuses a job that names a classifier or rule set neither its tenant nor the shared set holds (or would be checked by a
 * configured rule set nobody stored): it could only fail every document.
 */
export async function checkDefinitions(
  deps: Pick<AppDeps, 'redis' | 'config'>,
  tenant: string,
  options: JobOptions,
  validates: boolean,
): Promise<void> {
  const { classify, validate } = options;
  if (classify && 'classifier' in classify && !(await storedClassifiers(deps).find(tenant, classify.classifier))) {
    throw badRequest(`no classifier ${classify.classifier}: store it with POST /v1/classifiers first`, [
      { path: 'options.classify.classifier', message: 'no such classifier' },
    ]);
  }
  if (validate && 'ruleset' in validate && !(await storedRulesets(deps).find(tenant, validate.ruleset))) {
    throw badRequest(`no rule set ${validate.ruleset}: store it with POST /v1/rulesets first`, [
      { path: 'options.validate.ruleset', message: 'no such rule set' },
    ]);
  }
  const configured = deps.config.ruleset;
  if (!validate && validates && configured && !(await storedRulesets(deps).find(tenant, configured))) {
    throw badRequest(`DOCPROC_RULESET names rule set ${configured}, which is not stored: store it with POST /v1/rulesets, or give options.validate`);
  }
}
