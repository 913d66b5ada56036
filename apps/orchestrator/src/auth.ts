import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * Bearer-key auth: with no keys configured every request passes (the
 * orchestrator then listens on loopback only). Keys are compared as digests,
 * in constant time.
 */
export function requireApiKey(keys: string[]): RequestHandler {
  const digests = keys.map(digest);
  return (req, _res, next) => {
    if (digests.length === 0) return next();
    const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    const given = match ? digest(match[1]!.trim()) : null;
    if (given && digests.some((d) => timingSafeEqual(d, given))) return next();
    next(
      new HttpError(401, 'unauthorized', match ? 'the API key is not valid' : 'an API key is required: Authorization: Bearer <key>', undefined, {
        'WWW-Authenticate': 'Bearer',
      }),
    );
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
