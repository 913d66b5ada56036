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
