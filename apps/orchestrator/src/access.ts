import type { RequestHandler } from 'express';
import type { Role } from '@docproc/catalog';
import { forbidden, holds, principalOf, sees } from './auth';
import type { AppDeps } from './deps';
import { notFound } from './http-error';

interface Guarded {
  method: string;
  pattern: RegExp;
  roles: Role[];
}

type Paths = Record<string, Record<string, { security?: Record<string, string[]>[] }>>;

/** Each operation of the OpenAPI document as a matcher: `/v1/jobs/{id}` → `^/v1/jobs/([^/]+)$`, and the roles it needs. */
function operationsOf(document: { paths: object }): Guarded[] {
  const operations: Guarded[] = [];
  for (const [path, item] of Object.entries(document.paths as Paths)) {
    const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(item)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const roles = [...new Set((operation.security ?? []).flatMap((requirement) => Object.values(requirement).flat()))] as Role[];
      operations.push({ method: method.toUpperCase(), pattern, roles });
    }
  }
  return operations;
}

/**
 * The API's roles, as the OpenAPI document states them: a request is let on only when its
 * key holds one of its operation's roles; a request that matches no operation is answered
 * 404 here — a route the document does not list cannot be reached, so none goes unguarded.
 */
export function operationRoles(document: { paths: object }): RequestHandler {
  const operations = operationsOf(document);
  return (req, res, next) => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const operation = operations.find((o) => o.method === method && o.pattern.test(req.path));
    if (!operation) return next(notFound(`no route ${req.method} ${req.path}`));
    const principal = principalOf(res);
    next(operation.roles.length === 0 || operation.roles.some((role) => holds(principal, role)) ? undefined : forbidden(principal, operation.roles));
  };
}

/**
 * A job of another tenant does not exist for this key: answered exactly as a job that is
 * not there (404 before anything else is looked at, not 403 — ids of other tenants' jobs
 * are not confirmed). Mounted on /v1/jobs/:id, so every route of a job passes here.
 */
export function ownJobsOnly(deps: Pick<AppDeps, 'store'>): RequestHandler {
  return async (req, res, next) => {
    try {
      const id = String(req.params.id);
      const tenant = await deps.store.tenantOf(id);
      next(tenant === null || !sees(principalOf(res), tenant) ? notFound(`no job ${id}`) : undefined);
    } catch (err) {
      next(err);
    }
  };
}
