--[[
  Counts jobs by state, after housekeeping (requeue expired reservations, promote due
  delayed jobs), so the counts match what a reserve would see. Reservations are counted in
  processing_vt, which holds every side's (the `processing` LIST holds svc-infra's only).

  Input:
    KEYS[1] ready          LIST
    KEYS[2] processing     LIST
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch seconds)
    ARGV[3] housekeeping batch size
    ARGV[4], ARGV[5] last_error of an expired reservation, before and after the attempt number
    ARGV[6] now as ISO-8601 UTC

  Output: { ready, delayed, processing, dlq }
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[6], ARGV[4], ARGV[5],
  limit)
promoteDelayed(readyKey, delayedKey, now, limit)
return {
  redis.call('LLEN', readyKey),
  redis.call('ZCARD', delayedKey),
  redis.call('ZCARD', vtKey),
  redis.call('LLEN', dlqKey),
}
