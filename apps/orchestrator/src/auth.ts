import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

const BASIC = 'Basic realm="docproc", charset="UTF-8"';

const digest = (key: string) => createHash('sha256').update(key).digest();

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
 * digests, in constant time. `challenge` is what a 401 asks for: `Basic` on the
 * pages, so a browser shows its login dialog; `Bearer` on the API, with Basic of
 * the same realm beside it, so a page's own requests to the API (the batch page,
 * the API docs) are answered with the credentials the browser already holds.
 */
export function requireApiKey(keys: string[], challenge: 'Basic' | 'Bearer' = 'Bearer'): RequestHandler {
  const digests = keys.map(digest);
  return (req, _res, next) => {
    if (digests.length === 0) return next();
    const key = presentedKey(req.get('authorization') ?? '');
    const given = key ? digest(key) : null;
    if (given && digests.some((d) => timingSafeEqual(d, given))) return next();
    next(
      new HttpError(401, 'unauthorized', key ? 'the API key is not valid' : 'an API key is required: Authorization: Bearer <key>', undefined, {
        'WWW-Authenticate': challenge === 'Basic' ? BASIC : ['Bearer realm="docproc"', BASIC],
      }),
    );
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
