/**
 * Lua scripts that move batch and document records atomically, so that two
 * workers finishing the last two documents at once still count them once and
 * finish the batch once.
 */

/** KEYS: batch, document. ARGV: step, now. Returns "cancelled" or "ok". */
export const STEP_STARTED = `
local batchStatus = redis.call('HGET', KEYS[1], 'status')
if batchStatus == 'cancelled' then return 'cancelled' end
if batchStatus == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', ARGV[2])
end
local docStatus = redis.call('HGET', KEYS[2], 'status')
if docStatus == 'queued' or docStatus == 'pending' then
  redis.call('HSET', KEYS[2], 'status', 'running', 'startedAt', ARGV[2])
end
redis.call('HSET', KEYS[2], ARGV[1] .. '.status', 'running', ARGV[1] .. '.startedAt', ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[1] .. '.attempts', 1)
return 'ok'
`;

/**
 * KEYS: batch, document. ARGV: step, stepStatus, now, documentStatus ('' while
 * the document goes on), errorJson ('' for none).
 * Returns the batch status after the change.
 */
export const STEP_FINISHED = `
redis.call('HSET', KEYS[2], ARGV[1] .. '.status', ARGV[2], ARGV[1] .. '.finishedAt', ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'error', ARGV[5]) end
local batchStatus = redis.call('HGET', KEYS[1], 'status')
if ARGV[4] == '' then return batchStatus end
local docStatus = redis.call('HGET', KEYS[2], 'status')
if docStatus == 'completed' or docStatus == 'failed' or docStatus == 'cancelled' or docStatus == 'timeout' then
  return batchStatus
end
redis.call('HSET', KEYS[2], 'status', ARGV[4], 'finishedAt', ARGV[3])
local counter = ARGV[4]
if counter == 'timeout' then counter = 'failed' end
redis.call('HINCRBY', KEYS[1], counter, 1)
local b = redis.call('HMGET', KEYS[1], 'total', 'completed', 'failed', 'cancelled')
local total, completed, failed, cancelled = tonumber(b[1]), tonumber(b[2]) or 0, tonumber(b[3]) or 0, tonumber(b[4]) or 0
if completed + failed + cancelled < total then return batchStatus end
local final = batchStatus
if batchStatus ~= 'cancelled' then
  if failed == total then final = 'failed'
  elseif failed > 0 then final = 'completed_with_errors'
  else final = 'completed' end
end
redis.call('HSET', KEYS[1], 'status', final, 'finishedAt', ARGV[3])
return final
`;

/** KEYS: batch. ARGV: now. Returns the status before the call ('' for an unknown batch). */
export const CANCEL_BATCH = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status == 'queued' or status == 'running' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelledAt', ARGV[1])
end
return status
`;
