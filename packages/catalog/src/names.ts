import { z } from 'zod';

/** The name a classifier or rule set is stored under. */
export const definitionNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, "-" and "_", at most 64');
