/**
 * Lua scripts that move batch and document records atomically, so that two
 * workers finishing the last two documents at once still count them once and
 * finish the batch once.
 */

/**
 * Records how one step of one document ended, once, when it ended: a single
 * call per step keeps docproc's own Redis traffic small next to BullMQ's.
 *
 * KEYS: batch, document.
 * ARGV: step, stepStatus, now, startedAt, attempts, documentStatus ('' while
 * the document goes on), errorJson (''), resultJson (''), resultKey ('').
 *
 * The first step to end marks the batch running (from its start time). A
 * document of a cancelled batch is marked cancelled here, so its chain stops.
 * Returns the batch status after the change.
 */
export const RECORD_STEP = `
local step, now = ARGV[1], ARGV[3]
redis.call('HSET', KEYS[2], step .. '.status', ARGV[2], step .. '.startedAt', ARGV[4], step .. '.finishedAt', now, step .. '.attempts', ARGV[5])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[2], step .. '.result', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[2], step .. '.resultKey', ARGV[9]) end
local batchStatus = redis.call('HGET', KEYS[1], 'status')
if batchStatus == 'queued' then
  batchStatus = 'running'
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', ARGV[4])
end
local docStatus = redis.call('HGET', KEYS[2], 'status')
if docStatus == 'completed' or docStatus == 'failed' or docStatus == 'cancelled' or docStatus == 'timeout' then
  return batchStatus
end
local final, errorJson = ARGV[6], ARGV[7]
if final == '' and batchStatus == 'cancelled' then
  final, errorJson = 'cancelled', '{"code":"cancelled","message":"the job was cancelled"}'
end
if final == '' then
  if docStatus == 'queued' then redis.call('HSET', KEYS[2], 'status', 'running', 'startedAt', ARGV[4]) end
  return batchStatus
end
redis.call('HSET', KEYS[2], 'status', final, 'finishedAt', now)
if errorJson ~= '' then redis.call('HSET', KEYS[2], 'error', errorJson) end
local counter = final
if counter == 'timeout' then counter = 'failed' end
redis.call('HINCRBY', KEYS[1], counter, 1)
local b = redis.call('HMGET', KEYS[1], 'total', 'completed', 'failed', 'cancelled')
local total, completed, failed, cancelled = tonumber(b[1]), tonumber(b[2]) or 0, tonumber(b[3]) or 0, tonumber(b[4]) or 0
if completed + failed + cancelled < total then return batchStatus end
if batchStatus ~= 'cancelled' then
  if failed == total then batchStatus = 'failed'
  elseif failed > 0 then batchStatus = 'completed_with_errors'
  else batchStatus = 'completed' end
end
redis.call('HSET', KEYS[1], 'status', batchStatus, 'finishedAt', now)
return batchStatus
`;

/**
 * Cancels a batch and, at once, every document of it that is not done yet.
 * KEYS: batch, batch's document list. ARGV: now, document key prefix, errorJson.
 * Returns the status the batch had ('' for an unknown batch).
 */
export const CANCEL_BATCH = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status ~= 'queued' and status ~= 'running' then return status end
local cancelled = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local key = ARGV[2] .. id
  local s = redis.call('HGET', key, 'status')
  if s ~= 'completed' and s ~= 'failed' and s ~= 'cancelled' and s ~= 'timeout' then
    redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', ARGV[1], 'error', ARGV[3])
    cancelled = cancelled + 1
  end
end
redis.call('HINCRBY', KEYS[1], 'cancelled', cancelled)
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelledAt', ARGV[1], 'finishedAt', ARGV[1])
return status
`;

/**
 * Counts one page of a paged step as done, once however often it is reported,
 * and keeps the earliest start of the step's pages.
 * KEYS: document, the document's done-pages set. ARGV: page index, step, the page's start (ms).
 * Returns { pages done, document status, the step's earliest page start }.
 */
export const PAGE_DONE = `
redis.call('SADD', KEYS[2], ARGV[1])
local field = ARGV[2] .. '.pagesStartedAt'
local first = redis.call('HGET', KEYS[1], field)
if not first or tonumber(ARGV[3]) < tonumber(first) then
  first = ARGV[3]
  redis.call('HSET', KEYS[1], field, first)
end
return { redis.call('SCARD', KEYS[2]), redis.call('HGET', KEYS[1], 'status') or '', first }
`;
