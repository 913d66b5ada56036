import { z } from 'zod';
import { tenantWebhookSchema } from './webhooks';

/**
 * What an API key may do. `admin` may do everything, across tenants; `metrics` only
 * scrapes /metrics.
 */
export const ROLES = ['submit', 'read', 'review', 'admin', 'metrics'] as const;
export type Role = (typeof ROLES)[number];

/** The tenant of every job when keys come from DOCPROC_API_KEYS, or when there are no keys. */
export const DEFAULT_TENANT = 'default';

/** A tenant's name: lower-case letters, digits, - and _ (it becomes part of Redis keys). */
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** One entry of the API keys file (DOCPROC_API_KEYS_FILE): a key's id, tenant, roles and SHA-256 — never the key. */
export const apiKeyEntrySchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ., _ and - (at most 64)'),
    tenant: z.string().regex(TENANT_NAME, 'lower-case letters, digits, - and _ (at most 63)'),
    roles: z.array(z.enum(ROLES)).min(1),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the hex SHA-256 of the key (64 hex digits)'),
  })
  .strict();
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/**
 * What a tenant may use: documents in one job, bytes uploaded in one job, documents
 * accepted and not ended (its backlog), documents accepted per day (UTC).
 */
export const QUOTAS = ['documentsPerJob', 'bytesPerJob', 'backlogDocuments', 'documentsPerDay'] as const;
export type Quota = (typeof QUOTAS)[number];
export type Quotas = Partial<Record<Quota, number>>;

/** The tenant entry of the API keys file: a tenant's quotas and webhook (`*`: every tenant's without an entry of its own). */
export const tenantEntrySchema = z
  .object({
    tenant: z.union([z.literal('*'), z.string().regex(TENANT_NAME, 'lower-case letters, digits, - and _ (at most 63), or *')]),
    quotas: z
      .strictObject(
        Object.fromEntries(QUOTAS.map((quota) => [quota, z.number().int().min(1).optional()])) as Record<Quota, z.ZodOptional<z.ZodNumber>>,
      )
      .default({}),
    webhook: tenantWebhookSchema.optional(),
  })
  .strict();
export type TenantEntry = z.infer<typeof tenantEntrySchema>;
