import type { ApiClient } from './client';
import { EXIT } from './exit-codes';
import { BatchProgress } from './progress';

export interface JobBody {
  id: string;
  status: string;
  progress: { total: number; completed: number; failed: number; cancelled: number; percent: number };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The exit code of a job that ended (or waits for review): 0 when every document completed, 7 waiting for review, else 2. */
export const exitCodeOf = (job: JobBody) =>
  job.status === 'completed' ? EXIT.ok : job.status === 'awaiting_review' ? EXIT.awaitingReview : EXIT.documentsFailed;

export interface FollowOptions {
  /** Print every event as a JSON line instead of the progress. */
  json: boolean;
  /** A line per event (docproc watch), not only the progress. */
  everyEvent?: boolean;
  out?: NodeJS.WriteStream;
}

/**
 * Follows a job's events until it ends: a live progress bar on a terminal, plain
 * progress lines otherwise (when a document ends, at most every 2 s), or JSON
 * lines. Ctrl-C stops following (the job goes on). Returns the job as it ended.
 */
export async function followJob(client: ApiClient, id: string, options: FollowOptions): Promise<JobBody> {
  const out = options.out ?? process.stdout;
  const live = out.isTTY === true && !options.json;
  const progress = new BatchProgress();
  const stop = new AbortController();
  const interrupt = () => {
    stop.abort();
    if (live) out.write('\n');
    process.stderr.write(`stopped following; job ${id} goes on (docproc watch ${id})\n`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', interrupt);
  let lastPlain = 0;
  let lastDone = -1;
  const redraw = () => live && out.write(`\r\x1b[K${progress.line(Math.min(30, Math.max(10, (out.columns ?? 80) - 90)))}`);
  const timer = live ? setInterval(redraw, 500) : undefined;
  try {
    for await (const event of client.events(`/v1/jobs/${id}/events`, stop.signal)) {
      progress.apply(event);
      if (options.json) out.write(`${JSON.stringify({ id: event.id ?? null, event: event.event, data: event.data })}\n`);
      else if (options.everyEvent && event.event !== 'task') {
        // (task events repeat the step and page lines with timings: the batch page's timeline draws them)
        if (live) out.write('\r\x1b[K');
        out.write(`${describeEvent(event)}\n`);
        redraw();
      } else if (live) redraw();
      else if (progress.done !== lastDone && (Date.now() - lastPlain > 2000 || progress.finished)) {
        out.write(`${progress.line(20)}\n`);
        lastPlain = Date.now();
        lastDone = progress.done;
      }
      if (event.event === 'end') break;
      // Every document ran; what is left is people's: following stops here (watch goes on until the end).
      if (event.event === 'batch' && (event.data as { status?: string }).status === 'awaiting_review' && !options.everyEvent) {
        if (!options.json) process.stderr.write(`\njob ${id} waits for review: docproc reviews --job ${id}\n`);
        break;
      }
    }
  } finally {
    clearInterval(timer);
    process.removeListener('SIGINT', interrupt);
  }
  if (live) {
    redraw();
    out.write('\n');
  }
  return client.json<JobBody>(`/v1/jobs/${id}`);
}

/** One event as a line a person reads. */
function describeEvent(event: { event: string; data: unknown }): string {
  const d = (event.data ?? {}) as Record<string, string | number | undefined>;
  const time = typeof d.at === 'string' ? d.at.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const doc = d.document ? `document ${String(d.document).slice(0, 8)}` : '';
  switch (event.event) {
    case 'snapshot':
      return `${time} job ${String(d.id)} ${String(d.status)}`;
    case 'batch':
      return `${time} job ${String(d.status)}: ${d.completed}/${d.total} completed, ${d.failed} failed, ${d.cancelled} cancelled`;
    case 'document':
      return `${time} ${doc} ${String(d.status)}${d.code ? ` (${d.code})` : ''}`;
    case 'step':
      return `${time} ${doc} ${String(d.step)} ${String(d.status)}${Number(d.attempt) > 1 ? ` (attempt ${d.attempt})` : ''}`;
    case 'page':
      return `${time} ${doc} ${String(d.step)} page ${Number(d.page) + 1}${d.count ? `/${d.count}` : ''} ${String(d.status)}`;
    case 'review':
      return `${time} ${doc} review ${String(d.status)}${d.reviewer ? ` by ${String(d.reviewer)}` : ''}`;
    case 'end':
      return `${time} job ended: ${String(d.status)}`;
    default:
      return `${time} ${event.event} ${JSON.stringify(d)}`;
  }
}
