--[[
  Reserves up to `count` due jobs: requeues expired reservations, promotes due delayed
  jobs (a bounded batch of each), then pops from the front of the waiting lists, counts the attempt
  and hides each job until its visibility deadline. Every step is O(log n) per job.

  Input:
    KEYS[1] ready          LIST  (enqueue LPUSHes, reserve RPOPs: the front is the right end)
    KEYS[2] processing     LIST  (svc-infra's reservations; svc-jobs's are in processing_vt only)
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST  (LPUSH on death: the oldest at the right end)
    KEYS[6] wake           LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch seconds)
    ARGV[3] now as ISO-8601 UTC
    ARGV[4] visibility deadline (epoch seconds)
    ARGV[5] count: jobs to reserve at most
    ARGV[6] housekeeping batch size
    ARGV[7], ARGV[8] last_error of an expired reservation, before and after the attempt number
    ARGV[9] the event stream's cap (`reserved`, `expired`, `dead` events), '' for no events

  Also reads `{prefix}:paused` (nothing is reserved while it exists; housekeeping still runs)
  and pops the priority levels `{prefix}:priorities` / `{prefix}:prio:{n}` around `ready`:
  the highest positive priority first, then `ready` (priority 0), then the negative ones.

  Output: { nextDue, job1, job2, ... } where each job is its hash as a field/value list
    (HGETALL, attempts already counted) and nextDue (epoch seconds) is set only when no job
    was reserved: when the next delayed job or reservation falls due, '' when nothing is
    pending.
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey, wakeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, now, nowIso, deadline = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit = tonumber(ARGV[6])
local maxLen = ARGV[9]

requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, nowIso, ARGV[7], ARGV[8],
  limit, maxLen)
promoteDelayed(prefix, readyKey, delayedKey, now, limit)

local out = { '' }
if redis.call('EXISTS', prefix .. ':paused') == 1 then
  out[1] = nextDue(delayedKey, vtKey)
  return reply(out)
end
local ids = popWaiting(prefix, readyKey, tonumber(ARGV[5]))
for _, id in ipairs(ids) do
  local key = jobKey(prefix, id)
  local f = redis.call('HGETALL', key)
  -- An id whose hash is gone (acked, or deleted by hand) is dropped rather than
  -- resurrected; so is a second copy of an id that is reserved or delayed already
  -- (svc-infra's recovery is not atomic and can push an id twice), and a finished job
  -- (a cancelled reservation that svc-infra's fail sent back).
  if #f > 0 and not str(redis.call('ZSCORE', vtKey, id))
    and not str(redis.call('ZSCORE', delayedKey, id)) then
    local h = {}
    for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
    local attempts = tonumber(h.attempts or '0') or 0
    if h[STATE] then
      -- finished: not run again
    elseif attempts >= (tonumber(h.max_attempts or DEFAULT_MAX_ATTEMPTS) or 1) then
      -- svc-infra's rule: a job whose attempts are used up (its last reservation expired
      -- and was recovered into ready) goes to the DLQ instead of running again.
      local lastError = h.last_error
      if not lastError or lastError == '' then
        lastError = ARGV[7] .. string.format('%d', attempts) .. ARGV[8]
        redis.call('HSET', key, 'last_error', lastError)
      end
      redis.call('HSET', key, STATE, 'dead')
      redis.call('LPUSH', dlqKey, id)
      emit(prefix, maxLen, now, 'dead', id, h.name, 'attempt', string.format('%d', attempts),
        'error', lastError)
    else
      local n = string.format('%d', attempts + 1)
      redis.call('HSET', key, 'attempts', n, OURS, n)
      redis.call('ZADD', vtKey, deadline, id)
      setField(f, 'attempts', n)
      setField(f, OURS, n)
      out[#out + 1] = f
      emit(prefix, maxLen, now, 'reserved', id, h.name, 'attempt', n)
    end
  end
end

if #out == 1 then
  out[1] = nextDue(delayedKey, vtKey)
elseif redis.call('LLEN', wakeKey) == 0 and anyWaiting(prefix, readyKey) then
  -- Pass the wake-up on: other blocked workers may be waiting for the jobs left.
  redis.call('LPUSH', wakeKey, '1')
end
return reply(out)
