import { z } from 'zod';

const listOfStrings = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

const redisUrl = z
  .string()
  .refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://');

/**
 * Every setting of every app, with the environment variable that sets it.
 * A config file (DOCPROC_CONFIG, JSON or YAML) uses the camelCase keys; the
 * environment wins over the file.
 */
export const settings = {
  redisUrl: { env: 'REDIS_URL', schema: redisUrl.default('redis://127.0.0.1:6379') },
  keyPrefix: {
    env: 'DOCPROC_KEY_PREFIX',
    // The braces are a Redis Cluster hash tag: all keys of one deployment share a slot,
    // so BullMQ's and docproc's multi-key scripts work on a cluster.
    schema: z.string().regex(/^[A-Za-z0-9{}_.-]+$/, 'letters, digits, {}, _, . and - only').default('{docproc}'),
  },
  dataDir: { env: 'DOCPROC_DATA_DIR', schema: z.string().min(1).default('./data') },
  logLevel: { env: 'LOG_LEVEL', schema: z.enum(['error', 'warn', 'info', 'debug']).default('info') },
  port: { env: 'PORT', schema: z.coerce.number().int().min(0).max(65535).default(3000) },
  host: { env: 'HOST', schema: z.string().min(1).default('127.0.0.1') },
  apiKeys: { env: 'DOCPROC_API_KEYS', schema: listOfStrings.default([]) },
  maxUploadBytes: { env: 'DOCPROC_MAX_UPLOAD_BYTES', schema: z.coerce.number().int().positive().default(100 * 1024 * 1024) },
  maxFilesPerJob: { env: 'DOCPROC_MAX_FILES_PER_JOB', schema: z.coerce.number().int().positive().default(1000) },
  concurrency: { env: 'DOCPROC_CONCURRENCY', schema: z.coerce.number().int().min(1).max(256).optional() },
  heartbeatMs: { env: 'DOCPROC_HEARTBEAT_MS', schema: z.coerce.number().int().min(100).default(5000) },
  ocrLanguages: { env: 'DOCPROC_OCR_LANGUAGES', schema: listOfStrings.default(['eng']) },
  minConfidence: { env: 'DOCPROC_MIN_CONFIDENCE', schema: z.coerce.number().min(0).max(100).default(60) },
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.infer<Settings[K]['schema']> };
