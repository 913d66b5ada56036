import { z } from 'zod';

/** What a webhook can be told: a job ending (by its status), a document ending, a document waiting for review. */
export const WEBHOOK_EVENTS = [
  'job.completed',
  'job.completed_with_errors',
  'job.failed',
  'job.cancelled',
  'job.awaiting_review',
  'document.completed',
  'document.failed',
  'review.requested',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** A webhook told nothing in particular hears of its jobs' ends. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEvent[] = ['job.completed', 'job.completed_with_errors', 'job.failed', 'job.cancelled'];

const webhookUrl = z
  .string()
  .max(2000)
  .refine((url) => URL.canParse(url) && ['http:', 'https:'].includes(new URL(url).protocol), 'an http or https URL');

/** `options.webhook`: where to POST a job's events, and which (default: the job's end). */
export const webhookOptionSchema = z.strictObject({
  url: webhookUrl,
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
});
export type WebhookOption = z.infer<typeof webhookOptionSchema>;

/**
 * A tenant's webhook (its entry in the API keys file): the secret every delivery to the
 * tenant is signed with (Standard Webhooks: `whsec_` and base64), and a default URL for
 * jobs that name none.
 */
export const tenantWebhookSchema = z.strictObject({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'whsec_ followed by base64 of 24 bytes or more'),
  url: webhookUrl.optional(),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
});
export type TenantWebhook = z.infer<typeof tenantWebhookSchema>;
