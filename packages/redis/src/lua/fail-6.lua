--[[
  Records a failed attempt: keeps last_error and schedules the retry after the backoff,
  or moves the job to the DLQ once attempts >= max_attempts. Fenced by the attempt number.

  Input:
    KEYS[1] processing     LIST  (svc-infra's reservations)
    KEYS[2] processing_vt  ZSET
    KEYS[3] ready          LIST
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST  (LPUSH on death: the oldest at the right end)
    KEYS[6] wake           LIST

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one
    ARGV[4] now (epoch seconds)
    ARGV[5] error message (last_error)
    ARGV[6] retry strategy: 'linear' or 'exponential'
    ARGV[7] exponential: factor
    ARGV[8] exponential: cap in seconds
    ARGV[9] exponential: jitter share, 0 to 1
    ARGV[10] a random number in [0, 1) for the jitter (from the caller, so tests stay
             deterministic)
    ARGV[11] now as ISO-8601 UTC
    ARGV[12] the event stream's cap (a `retrying` or `dead` event), '' for no events

  A retry without a delay joins the back of its priority's list (svc_jobs_priority).

  Output: 0 when fenced off, 1 when scheduled for a retry, 2 when moved to the DLQ.
]]
-- @include "common"

local processingKey, vtKey, readyKey, delayedKey, dlqKey, wakeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, id, now, maxLen = ARGV[1], ARGV[2], ARGV[4], ARGV[12]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end

local key = jobKey(prefix, id)
endReservation(prefix, processingKey, vtKey, id)
redis.call('HSET', key, 'last_error', ARGV[5])
redis.call('HDEL', key, 'visible_at')
local f = redis.call('HMGET', key, 'attempts', 'max_attempts', 'backoff_seconds',
  'svc_jobs_backoff_seconds', 'name', PRIORITY, 'available_at', GROUP)
local attempts = tonumber(str(f[1]) or '0') or 0
local attemptText = string.format('%d', attempts)
if attempts >= (tonumber(str(f[2]) or DEFAULT_MAX_ATTEMPTS) or 1) then
  redis.call('HSET', key, STATE, 'dead')
  redis.call('LPUSH', dlqKey, id)
  emit(prefix, maxLen, now, 'dead', id, str(f[5]), 'attempt', attemptText, 'error', ARGV[5])
  return 2
end

-- The same formula as retryDelaySeconds() in @svc-jobs/core. The exact (fractional)
-- backoff is svc_jobs_backoff_seconds when svc-jobs wrote one; backoff_seconds is the
-- integer svc-infra reads.
local n = math.max(1, attempts)
local backoff = tonumber(str(f[4]) or str(f[3]) or DEFAULT_BACKOFF_SECONDS) or 0
local delay
if ARGV[6] == 'linear' then
  delay = backoff * n
else
  delay = math.min(tonumber(ARGV[8]), backoff * tonumber(ARGV[7]) ^ (n - 1))
  delay = delay * (1 - tonumber(ARGV[9]) * tonumber(ARGV[10]))
end

keepCreatedAt(key, str(f[7]))
if delay > 0 then
  local due = tonumber(now) + delay
  redis.call('HSET', key, 'available_at', isoUtc(due))
  redis.call('ZADD', delayedKey, fmtSec(due), id)
else
  redis.call('HSET', key, 'available_at', ARGV[11])
  pushWaiting(prefix, readyKey, id, str(f[6]), false, str(f[8]))
end
emit(prefix, maxLen, now, 'retrying', id, str(f[5]), 'attempt', attemptText, 'error', ARGV[5],
  'delay', fmtSec(delay))
wake(wakeKey, 1)
return 1
