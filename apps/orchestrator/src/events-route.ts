import { Router } from 'express';
import { oldestEventId, readEvents } from '@docproc/batches';
import { FINAL_BATCH_STATUSES } from '@docproc/catalog';
import type { AppDeps } from './deps';
import { badRequest, batchOr404 } from './http-error';
import { batchView } from './views';

/** How often a stream looks for new events, and how often it says it is alive when there are none. */
const POLL_MS = 250;
const KEEP_ALIVE_MS = 15_000;

/** Stream ids ("<ms>-<seq>") in order. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

/**
 * GET /v1/jobs/:id/events: Server-Sent Events of the batch's progress, in the
 * order the changes were made (they are appended in the same Redis call that
 * makes them). Each event's id is its stream id: a client that reconnects with
 * Last-Event-ID gets every event after it. A new client, or one whose last
 * event is older than the oldest kept (DOCPROC_MAX_EVENTS_PER_JOB), first gets
 * a `snapshot` of the batch. The stream ends, with an `end` event, when the
 * batch ends. Events are read by polling the stream (one XRANGE per client
 * every 250 ms) over the orchestrator's own connection.
 */
export function eventsRoute(deps: AppDeps): Router {
  const { store, redis } = deps;
  const router = Router();

  router.get('/:id/events', async (req, res) => {
    const batch = await batchOr404(store, req.params.id);
    const given = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    if (given !== undefined && !/^\d+-\d+$/.test(given)) throw badRequest('Last-Event-ID must be an event id this stream sent');
    const key = store.keys.events(batch.id);

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    let closed = false;
    res.on('close', () => (closed = true));
    const send = (event: string, data: unknown, id?: string) =>
      res.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

    let last = given ?? '0';
    const oldest = await oldestEventId(redis, key);
    if (given === undefined || (oldest !== null && compareIds(given, oldest) < 0)) send('snapshot', batchView(batch));
    let quietSince = Date.now();
    try {
      while (!closed) {
        // The status first: once it is final, the event that made it so is in the stream, and the read below gets it.
        const now = await store.getBatch(batch.id);
        const events = await readEvents(redis, key, last, 500);
        for (const event of events) {
          send(event.type, event.data, event.id);
          last = event.id;
        }
        if (events.length > 0) quietSince = Date.now();
        if (events.length < 500 && (!now || FINAL_BATCH_STATUSES.includes(now.status))) {
          send('end', { id: batch.id, status: now?.status ?? 'deleted' });
          break;
        }
        if (Date.now() - quietSince > KEEP_ALIVE_MS) {
          res.write(': still here\n\n');
          quietSince = Date.now();
        }
        if (events.length < 500) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch {
      // Redis went away: the client reconnects with Last-Event-ID and misses nothing.
    }
    res.end();
  });

  return router;
}
