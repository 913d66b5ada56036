import { CANCELLED_MESSAGE, FINAL_TASK_STATUSES } from '@docproc/catalog';

/**
 * Lua scripts that move batch and document records atomically, so that two
 * workers finishing the last two documents at once still count them once and
 * finish the batch once. Each change also appends its event to the batch's
 * event stream in the same call, so events are in the order the changes were
 * made. Status names and the cancel message come from the catalog.
 */

const lua = (s: string) => JSON.stringify(s);

/** Shared by every script: final statuses, the cancel error, how an event is written. */
const PRELUDE = `
local FINAL = {${FINAL_TASK_STATUSES.map((status) => `[${lua(status)}] = true`).join(', ')}}
local CANCELLED_ERROR = ${lua(JSON.stringify({ code: 'cancelled', message: CANCELLED_MESSAGE }))}
local function emit(stream, maxlen, ...)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', ...)
end
local function counts(batchKey)
  local b = redis.call('HMGET', batchKey, 'total', 'completed', 'failed', 'cancelled')
  return tonumber(b[1]) or 0, tonumber(b[2]) or 0, tonumber(b[3]) or 0, tonumber(b[4]) or 0
end
-- A tenant's documents accepted and not ended (fair share and quotas read it): counters.ts's tenantLoadField.
-- (Not with 0: Lua's -0 reaches Redis as "-0", which HINCRBY refuses, and the script would stop half-way.)
local function addTenantLoad(countersKey, tenant, n)
  if n == 0 then return end
  redis.call('HINCRBY', countersKey, 'tenant-open:' .. (tenant or 'default'), n)
end
local function tenantLoad(batchKey, countersKey, n)
  if n ~= 0 then addTenantLoad(countersKey, redis.call('HGET', batchKey, 'tenant'), n) end
end
-- A run writes only while it holds its task's BullMQ lock (its token): a run that lost
-- its task (handed to another after its worker seemed gone) must not record anything.
local function owns(lockKey, token)
  return token == '' or redis.call('GET', lockKey) == token
end
-- One attempt of a task as it ended, from ARGV[at] to the end (TaskLedger's spanArgs): its
-- outcome ('' : no span), page, attempt, worker, when it was queued and started, then
-- (counter field, increment) pairs. Added to the platform counters and drawn on the
-- batch's timeline as a 'task' event.
local function taskSpan(stream, countersKey, maxlen, now, id, step, at)
  local outcome = ARGV[at]
  if outcome == '' then return end
  for i = at + 6, #ARGV, 2 do redis.call('HINCRBY', countersKey, ARGV[i], ARGV[i + 1]) end
  emit(stream, maxlen, 'type', 'task', 'document', id, 'step', step, 'page', ARGV[at + 1], 'attempt', ARGV[at + 2],
    'status', outcome, 'worker', ARGV[at + 3], 'queued', ARGV[at + 4], 'started', ARGV[at + 5], 'at', now)
end
local function batchEvent(batchKey, stream, maxlen, status, now)
  local total, completed, failed, cancelled = counts(batchKey)
  emit(stream, maxlen, 'type', 'batch', 'status', status, 'total', total, 'completed', completed, 'failed', failed, 'cancelled', cancelled, 'at', now)
end
-- Every document ran: the batch ends (its final status from the counts), or waits for the
-- reviews the job asked for. Returns the status and 1 when the batch ended.
local function endBatch(batchKey, stream, finishedKey, countersKey, maxlen, batchId, now)
  local total, completed, failed, cancelled = counts(batchKey)
  local status = redis.call('HGET', batchKey, 'status')
  if status ~= 'cancelled' then
    local waiting = tonumber(redis.call('HGET', batchKey, 'reviewWaiting')) or 0
    if redis.call('HGET', batchKey, 'reviewRequired') == '1' and waiting > 0 then
      if status ~= 'awaiting_review' then
        redis.call('HSET', batchKey, 'status', 'awaiting_review')
        batchEvent(batchKey, stream, maxlen, 'awaiting_review', now)
      end
      return {'awaiting_review', 0}
    end
    if failed == total then status = 'failed'
    elseif failed > 0 then status = 'completed_with_errors'
    else status = 'completed' end
  end
  redis.call('HSET', batchKey, 'status', status, 'finishedAt', now)
  redis.call('ZADD', finishedKey, now, batchId)
  redis.call('HINCRBY', countersKey, 'batches:' .. status, 1)
  batchEvent(batchKey, stream, maxlen, status, now)
  return {status, 1}
end
`;

/**
 * A task of a step starts (a page task: `page` set). Marks the step running
 * (a paged step from its first page), the document running, and the batch
 * running with its start time if it was queued (only a document's first start can find it so).
 * KEYS: batch, document, events. ARGV: step, now, page ('' for a whole step), attempt, maxEvents,
 * worker, queued (when the task became ready, epoch ms), document id.
 * Returns { batch status ('' when not read), document status }; a final document status means: skip the task.
 */
export const STEP_STARTED = `${PRELUDE}
local step, now, page, attempt, maxlen, worker, queued, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local doc = redis.call('HMGET', KEYS[2], 'status', step .. '.status')
local docStatus, stepStatus = doc[1] or '', doc[2]
if docStatus == '' or FINAL[docStatus] then return {'', docStatus} end
local batchStatus = ''
local changes = {}
if docStatus == 'queued' then
  batchStatus = redis.call('HGET', KEYS[1], 'status') or ''
  if batchStatus == 'queued' then
    batchStatus = 'running'
    redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', now)
    batchEvent(KEYS[1], KEYS[3], maxlen, 'running', now)
  end
  changes = {'status', 'running', 'startedAt', now}
end
if page == '' or (stepStatus ~= 'running' and stepStatus ~= 'completed') then
  changes[#changes + 1], changes[#changes + 2] = step .. '.status', 'running'
  changes[#changes + 1], changes[#changes + 2] = step .. '.startedAt', now
end
if #changes > 0 then redis.call('HSET', KEYS[2], unpack(changes)) end
if page == '' then
  emit(KEYS[3], maxlen, 'type', 'step', 'document', id, 'step', step, 'status', 'running', 'attempt', attempt,
    'worker', worker, 'queued', queued, 'at', now)
else
  emit(KEYS[3], maxlen, 'type', 'page', 'document', id, 'step', step, 'page', page, 'status', 'running', 'attempt', attempt,
    'worker', worker, 'queued', queued, 'at', now)
end
return {batchStatus, 'running'}
`;

/**
 * Records how one task of a step ended: the step's status, times and result,
 * and, when the document is done (its last step completed, or it failed), the
 * document, its count in the batch and, with the last document, the batch.
 * A run that ended before its start was recorded (a short task) has its start recorded
 * here too, as STEP_STARTED would have: one call of docproc's for the whole task.
 *
 * KEYS: batch, document, events, finished batches (zset), done pages of the next step, platform counters,
 * documents waiting for review (zset), the task's lock, the document's error history (list).
 * ARGV: step, stepStatus, now, startedAt ('' keeps the recorded one), attempts,
 * documentStatus ('' while the document goes on), errorJson (''), resultJson (''),
 * resultKey (''), maxEvents, batchId, '1' when the document now waits for review,
 * lock token ('' : no check), a failed attempt's JSON for the history (''), document id,
 * '1' to count the next step's done pages, '1' when the run's start is recorded here,
 * then the attempt's span (see taskSpan).
 *
 * Nothing is written when the lock is no longer the run's: returns { 'lost', 0 }; nor when
 * the start recorded here finds the document ended before the run started (or gone): { 'ended', 0 }.
 *
 * A document of a cancelled batch is marked cancelled here, so its chain stops.
 * Counts the ended document and batch in the platform counters (documents:<status>, batches:<status>).
 * Returns { batch status after the change, pages of the next step done, 1 when this call ended the batch }.
 */
export const RECORD_STEP = `${PRELUDE}
local step, stepStatus, now, startedAt, attempts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local final, errorJson, maxlen, batchId, id = ARGV[6], ARGV[7], ARGV[10], ARGV[11], ARGV[15]
local startHere, SPAN = ARGV[17] == '1', 18
if not owns(KEYS[8], ARGV[13]) then return {'lost', 0} end
local doc = redis.call('HMGET', KEYS[2], 'status', 'review', 'finishedAt')
local docStatus = doc[1]
-- Ended before the run started (as STEP_STARTED would have found it): the run is skipped.
if startHere and (not docStatus or (FINAL[docStatus] and (tonumber(doc[3]) or 0) < tonumber(ARGV[SPAN + 5]))) then return {'ended', 0} end
local b = redis.call('HMGET', KEYS[1], 'status', 'tenant', 'total', 'completed', 'failed', 'cancelled')
local batchStatus = b[1]
if docStatus and batchStatus == 'queued' then
  -- a batch runs from its first task's start (this run's, when its start is recorded here)
  local since = now
  if startHere then since = ARGV[SPAN + 5] end
  batchStatus = 'running'
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', since)
  batchEvent(KEYS[1], KEYS[3], maxlen, 'running', since)
end
local changes = {step .. '.status', stepStatus, step .. '.finishedAt', now, step .. '.attempts', attempts}
if startHere then
  -- the span's attempt, worker, queued and started: the 'running' event STEP_STARTED would have sent
  local attempt, worker, queued, started = ARGV[SPAN + 2], ARGV[SPAN + 3], ARGV[SPAN + 4], ARGV[SPAN + 5]
  emit(KEYS[3], maxlen, 'type', 'step', 'document', id, 'step', step, 'status', 'running', 'attempt', attempt,
    'worker', worker, 'queued', queued, 'at', started)
  if startedAt == '' then startedAt = started end
  if docStatus == 'queued' then
    changes[#changes + 1], changes[#changes + 2] = 'status', 'running'
    changes[#changes + 1], changes[#changes + 2] = 'startedAt', started
    docStatus = 'running'
  end
end
taskSpan(KEYS[3], KEYS[6], maxlen, now, id, step, SPAN)
if ARGV[14] ~= '' then redis.call('RPUSH', KEYS[9], ARGV[14]) end
if not docStatus then return {'', 0} end
if startedAt ~= '' then changes[#changes + 1], changes[#changes + 2] = step .. '.startedAt', startedAt end
if ARGV[8] ~= '' then changes[#changes + 1], changes[#changes + 2] = step .. '.result', ARGV[8] end
if ARGV[9] ~= '' then changes[#changes + 1], changes[#changes + 2] = step .. '.resultKey', ARGV[9] end
redis.call('HSET', KEYS[2], unpack(changes))
emit(KEYS[3], maxlen, 'type', 'step', 'document', id, 'step', step, 'status', stepStatus, 'attempt', attempts, 'at', now)
if ARGV[12] == '1' and doc[2] ~= 'waiting' then
  redis.call('HSET', KEYS[2], 'review', 'waiting')
  redis.call('HINCRBY', KEYS[1], 'reviewWaiting', 1)
  redis.call('ZADD', KEYS[7], now, batchId .. '/' .. id)
  emit(KEYS[3], maxlen, 'type', 'review', 'document', id, 'status', 'waiting', 'at', now)
end
local pagesDone = 0
if ARGV[16] == '1' then pagesDone = redis.call('SCARD', KEYS[5]) end
if FINAL[docStatus] then return {batchStatus, pagesDone} end
if final == '' and batchStatus == 'cancelled' then final, errorJson = 'cancelled', CANCELLED_ERROR end
if final == '' then
  if docStatus == 'queued' then redis.call('HSET', KEYS[2], 'status', 'running', 'startedAt', now) end
  return {batchStatus, pagesDone}
end
if errorJson ~= '' then redis.call('HSET', KEYS[2], 'status', final, 'finishedAt', now, 'error', errorJson)
else redis.call('HSET', KEYS[2], 'status', final, 'finishedAt', now) end
local counter = final
if counter == 'timeout' then counter = 'failed' end
redis.call('HINCRBY', KEYS[1], counter, 1)
redis.call('HINCRBY', KEYS[6], 'documents:' .. final, 1)
addTenantLoad(KEYS[6], b[2], -1)
local total, completed, failed, cancelled = tonumber(b[3]) or 0, tonumber(b[4]) or 0, tonumber(b[5]) or 0, tonumber(b[6]) or 0
if counter == 'completed' then completed = completed + 1 elseif counter == 'failed' then failed = failed + 1 else cancelled = cancelled + 1 end
local code = ''
if errorJson ~= '' then code = cjson.decode(errorJson).code end
emit(KEYS[3], maxlen, 'type', 'document', 'document', id, 'status', final, 'code', code,
  'total', total, 'completed', completed, 'failed', failed, 'cancelled', cancelled, 'at', now)
if completed + failed + cancelled < total then return {batchStatus, pagesDone} end
local ended = endBatch(KEYS[1], KEYS[3], KEYS[4], KEYS[6], maxlen, batchId, now)
return {ended[1], pagesDone, ended[2]}
`;

/**
 * Counts one page of a paged step as done, once however often it is reported, with the
 * span of the page's task.
 * KEYS: document, the step's done-pages set, events, the task's lock, platform counters.
 * ARGV: page index, step, the step before ('' when none), maxEvents, page count, now,
 * lock token ('': no check), document id, then the span (see taskSpan).
 * Returns { pages done, document status, the step's status, status of the step before ('completed' when none) },
 * or { -1 } when the run no longer holds its task's lock (nothing written).
 */
export const PAGE_DONE = `${PRELUDE}
local index, step, previous, maxlen, count, now, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[8]
if not owns(KEYS[4], ARGV[7]) then return {-1, '', '', ''} end
taskSpan(KEYS[3], KEYS[5], maxlen, now, id, step, 9)
local fields = redis.call('HMGET', KEYS[1], 'status', step .. '.status', previous .. '.status')
if not fields[1] then return {0, '', ''} end
redis.call('SADD', KEYS[2], index)
local done = redis.call('SCARD', KEYS[2])
local previousStatus = 'completed'
if previous ~= '' then previousStatus = fields[3] or '' end
emit(KEYS[3], maxlen, 'type', 'page', 'document', id, 'step', step, 'page', index, 'status', 'completed', 'done', done, 'count', count, 'at', now)
return {done, fields[1], fields[2] or '', previousStatus}
`;

/**
 * Records a chunk of a batch's documents, queued (or failed, when refused at submit), each
 * with its pipeline's steps, and appends them to the batch's list: one call of compact
 * arguments, not a command per document (a 10,000-document batch is accepted within a second).
 * KEYS: the batch's document list. ARGV: document key prefix, batchId, now, pipeline
 * (comma-separated), then per document: id, name, blob key, size, error JSON ('' when none).
 */
export const ADD_DOCUMENTS = `
local prefix, batchId, now = ARGV[1], ARGV[2], ARGV[3]
local steps = {}
for step in string.gmatch(ARGV[4], '[^,]+') do steps[#steps + 1] = step end
local ids = {}
for i = 5, #ARGV, 5 do
  local id, errorJson = ARGV[i], ARGV[i + 4]
  local fields = {'id', id, 'batchId', batchId, 'name', ARGV[i + 1], 'blobKey', ARGV[i + 2], 'size', ARGV[i + 3]}
  local stepStatus = 'queued'
  if errorJson == '' then
    fields[#fields + 1], fields[#fields + 2] = 'status', 'queued'
  else
    stepStatus = 'pending'
    for _, v in ipairs({'status', 'failed', 'error', errorJson, 'finishedAt', now}) do fields[#fields + 1] = v end
  end
  for _, step in ipairs(steps) do fields[#fields + 1], fields[#fields + 2] = step .. '.status', stepStatus end
  redis.call('HSET', prefix .. id, unpack(fields))
  ids[#ids + 1] = id
end
redis.call('RPUSH', KEYS[1], unpack(ids))
`;

/**
 * Cancels a batch and, at once, every document of it that is not done yet (a batch
 * waiting for reviews too: its documents leave the review list).
 * KEYS: batch, batch's document list, events, finished batches, platform counters, documents waiting for review.
 * ARGV: now, document key prefix, maxEvents, batchId.
 * Returns the status the batch had ('' for an unknown batch).
 */
export const CANCEL_BATCH = `${PRELUDE}
local now, prefix, maxlen = ARGV[1], ARGV[2], ARGV[3]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status ~= 'queued' and status ~= 'running' and status ~= 'awaiting_review' then return status end
local cancelled = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local key = prefix .. id
  local s = redis.call('HGET', key, 'status')
  if s and not FINAL[s] then
    redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', now, 'error', CANCELLED_ERROR)
    cancelled = cancelled + 1
  end
  -- nobody is asked to review a cancelled job's documents any more
  if redis.call('HGET', key, 'review') == 'waiting' then redis.call('ZREM', KEYS[6], ARGV[4] .. '/' .. id) end
end
redis.call('HINCRBY', KEYS[1], 'cancelled', cancelled)
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelledAt', now, 'finishedAt', now)
redis.call('ZADD', KEYS[4], now, ARGV[4])
redis.call('HINCRBY', KEYS[5], 'documents:cancelled', cancelled)
redis.call('HINCRBY', KEYS[5], 'batches:cancelled', 1)
tenantLoad(KEYS[1], KEYS[5], -cancelled)
batchEvent(KEYS[1], KEYS[3], maxlen, 'cancelled', now)
return status
`;

/**
 * Reopens failed and timed-out documents of a finished batch for a retry:
 * each goes back to queued from the step it failed in (later steps too),
 * leaves the failed count, and the batch runs again.
 * KEYS: batch, events, finished batches, platform counters. ARGV: now, document key prefix, maxEvents,
 * batchId, then pairs of (document id, comma-separated steps to reopen).
 * Returns the ids reopened (a document not failed, or already reopened, is left alone).
 */
export const REOPEN_DOCUMENTS = `${PRELUDE}
local now, prefix, maxlen = ARGV[1], ARGV[2], ARGV[3]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {} end
local reopened = {}
for i = 5, #ARGV, 2 do
  local key = prefix .. ARGV[i]
  local s = redis.call('HGET', key, 'status')
  if s == 'failed' or s == 'timeout' then
    redis.call('HSET', key, 'status', 'queued')
    redis.call('HDEL', key, 'error', 'finishedAt')
    redis.call('HINCRBY', key, 'retries', 1)
    for step in string.gmatch(ARGV[i + 1], '[^,]+') do
      redis.call('HSET', key, step .. '.status', 'queued')
      redis.call('HDEL', key, step .. '.finishedAt', step .. '.result', step .. '.resultKey')
    end
    redis.call('HINCRBY', KEYS[1], 'failed', -1)
    emit(KEYS[2], maxlen, 'type', 'document', 'document', ARGV[i], 'status', 'queued', 'at', now)
    reopened[#reopened + 1] = ARGV[i]
  end
end
if #reopened > 0 then
  tenantLoad(KEYS[1], KEYS[4], #reopened)
  local next = 'running'
  if not redis.call('HGET', KEYS[1], 'startedAt') then next = 'queued' end
  redis.call('HSET', KEYS[1], 'status', next)
  redis.call('HDEL', KEYS[1], 'finishedAt')
  redis.call('ZREM', KEYS[3], ARGV[4])
  batchEvent(KEYS[1], KEYS[2], maxlen, next, now)
end
return reopened
`;

/**
 * Records a reviewer's decision on a document waiting for review; with the last review of
 * a batch that waited for them, the batch ends.
 * KEYS: batch, document, events, finished batches, platform counters, documents waiting for review.
 * ARGV: decision (approved | rejected), reviewJson, now, maxEvents, batchId, reviewer.
 * Returns { 'recorded' | the document's review state when it was not waiting, batch status, 1 when the batch ended }.
 */
export const RECORD_REVIEW = `${PRELUDE}
local decision, reviewJson, now, maxlen, batchId, reviewer = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local review = redis.call('HGET', KEYS[2], 'review') or ''
if review ~= 'waiting' then return {review == '' and 'none' or review, '', 0} end
if redis.call('HGET', KEYS[1], 'status') == 'cancelled' then return {'cancelled', 'cancelled', 0} end
local id = redis.call('HGET', KEYS[2], 'id')
redis.call('HSET', KEYS[2], 'review', decision, 'reviewRecord', reviewJson)
redis.call('HINCRBY', KEYS[1], 'reviewWaiting', -1)
redis.call('HINCRBY', KEYS[1], 'review:' .. decision, 1)
redis.call('ZREM', KEYS[6], batchId .. '/' .. id)
redis.call('HINCRBY', KEYS[5], 'reviews:' .. decision, 1)
emit(KEYS[3], maxlen, 'type', 'review', 'document', id, 'status', decision, 'reviewer', reviewer, 'at', now)
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'awaiting_review' and (tonumber(redis.call('HGET', KEYS[1], 'reviewWaiting')) or 0) == 0 then
  local ended = endBatch(KEYS[1], KEYS[3], KEYS[4], KEYS[5], maxlen, batchId, now)
  return {'recorded', ended[1], ended[2]}
end
return {'recorded', status, 0}
`;

/**
 * Hands back the tasks of a worker that is gone: each active task of the queue whose lock
 * carries the worker's token (BullMQ's "<worker id>:<n>") loses its lock and is marked for
 * BullMQ's stalled check, which queues it again at its next pass; the released set tells
 * that check's 'stalled' event the crash is recorded already. Atomic: of two that saw the
 * same worker gone, only one gets its tasks (and records their crash).
 * KEYS: the queue's active list, its stalled set, the released set.
 * ARGV: the queue's key prefix ("<prefix>:<queue>:"), the worker's BullMQ id.
 * Returns the ids released.
 */
export const RELEASE_TASKS = `
local released = {}
local mark = ARGV[2] .. ':'
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local lockKey = ARGV[1] .. id .. ':lock'
  local token = redis.call('GET', lockKey)
  if token and string.sub(token, 1, #mark) == mark then
    redis.call('DEL', lockKey)
    redis.call('SADD', KEYS[2], id)
    redis.call('SADD', KEYS[3], id)
    released[#released + 1] = id
  end
end
return released
`;
