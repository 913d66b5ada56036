import { CliError, type ApiClient } from './client';
import { EXIT } from './exit-codes';

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The start of an id as `watch` and the pages print it (8 hex digits, or more). */
const SHORT_ID = /^[0-9a-f][0-9a-f-]{3,34}$/i;
/** Jobs looked through for a short id: the newest this many. */
const SHORT_ID_LOOKBACK = 1000;

function unique(prefix: string, ids: string[], what: string): string {
  const found = ids.filter((id) => id.startsWith(prefix.toLowerCase()));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new CliError(`no ${what} starts with ${prefix}`, EXIT.refused);
  throw new CliError(`${found.length} ${what}s start with ${prefix}: give more of the id (${found.slice(0, 3).join(', ')}…)`, EXIT.usage);
}

/** A job id as given, or the one job among the newest that a short id (as `watch` and `list` print) starts. */
export async function resolveJobId(client: ApiClient, id: string): Promise<string> {
  if (FULL_ID.test(id) || !SHORT_ID.test(id)) return id;
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const page: { jobs: { id: string }[]; nextCursor?: string | null } = await client.json(`/v1/jobs?${query}`);
    ids.push(...page.jobs.map((j) => j.id));
    cursor = page.nextCursor ?? null;
  } while (cursor && ids.length < SHORT_ID_LOOKBACK);
  return unique(id, ids, 'job');
}

/** A document id as given, or the one document of the job that a short id (as `watch` prints) starts. */
export async function resolveDocumentId(client: ApiClient, jobId: string, id: string): Promise<string> {
  if (FULL_ID.test(id) || !SHORT_ID.test(id)) return id;
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000', ...(cursor ? { cursor } : {}) });
    const page: { documents: { documentId: string }[]; nextCursor: string | null } = await client.json(
      `/v1/jobs/${encodeURIComponent(jobId)}/results?${query}`,
    );
    ids.push(...page.documents.map((d) => d.documentId));
    cursor = page.nextCursor;
  } while (cursor);
  return unique(id, ids, 'document');
}
