import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { AuditEntry } from '@docproc/batches';
import { DEFAULT_TENANT, ROLES, type Role } from '@docproc/catalog';
import { keyDigest, type KeyRing } from './api-keys';
import { HttpError } from './http-error';

const BASIC = 'Basic realm="docproc", charset="UTF-8"';

/** Who is asking: the key's id (never the key), its tenant and roles. */
export interface Principal {
  keyId: string;
  tenant: string;
  roles: readonly Role[];
}

/** With no keys configured (loopback only) every request is the default tenant's administrator. */
const NOBODY_CHECKED: Principal = { keyId: 'anonymous', tenant: DEFAULT_TENANT, roles: ROLES };

/** The key a request carries: `Authorization: Bearer <key>`, or HTTP Basic with the key as the password (browsers). */
function presentedKey(header: string): string | null {
  const bearer = /^Bearer (.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic (.+)$/i.exec(header);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1]!.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

/**
 * API-key auth: with no keys configured every request passes (the orchestrator
 * then listens on loopback only). A key comes as a bearer token or, from a
 * browser, as the password of HTTP Basic (any user name). Keys are compared as
 * digests, in constant time. The key's principal is left for the routes
 * (`principalOf`). `challenge` is what a 401 asks for: `Basic` on the pages, so
 * a browser shows its login dialog; `Bearer` on the API, with Basic of the same
 * realm beside it, so a page's own requests to the API (the batch page, the API
 * docs) are answered with the credentials the browser already holds.
 */
export function authenticate(ring: Pick<KeyRing, 'keys' | 'open'>, challenge: 'Basic' | 'Bearer' = 'Bearer'): RequestHandler {
  return (req, res, next) => {
    if (ring.open) {
      res.locals.principal = NOBODY_CHECKED;
      return next();
    }
    const key = presentedKey(req.get('authorization') ?? '');
    const given = key ? keyDigest(key) : null;
    const found = given ? ring.keys().find((k) => timingSafeEqual(k.digest, given)) : undefined;
    if (found) {
      res.locals.principal = { keyId: found.id, tenant: found.tenant, roles: found.roles } satisfies Principal;
      return next();
    }
    next(
      new HttpError(401, 'unauthorized', key ? 'the API key is not valid' : 'an API key is required: Authorization: Bearer <key>', undefined, {
        'WWW-Authenticate': challenge === 'Basic' ? BASIC : ['Bearer realm="docproc"', BASIC],
      }),
    );
  };
}

/** The principal `authenticate` found for this request. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('no principal: the route is not behind authenticate()');
  return principal;
}

/** An act on a batch by the request's key, for its audit trail and the log. */
export function act(res: Response, action: AuditEntry['action'], document?: string): AuditEntry {
  const { tenant, keyId } = principalOf(res);
  return { action, tenant, key: keyId, at: new Date().toISOString(), ...(document ? { document } : {}) };
}

/** Whether the principal holds `role` (an administrator holds every role). */
export const holds = (principal: Principal, role: Role) => principal.roles.includes(role) || principal.roles.includes('admin');

/** Whether the principal may see what belongs to `tenant` (its own; an administrator's, everyone's). */
export const sees = (principal: Principal, tenant: string) => principal.tenant === tenant || principal.roles.includes('admin');

export const forbidden = (principal: Principal, roles: readonly Role[]) =>
  new HttpError(403, 'forbidden', `the API key ${principal.keyId} lacks the role this needs (${roles.join(' or ')})`);

/** Lets the request on only when its principal holds one of `roles`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    next(roles.some((role) => holds(principal, role)) ? undefined : forbidden(principal, roles));
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
