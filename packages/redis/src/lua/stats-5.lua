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
    ARGV[7] the event stream's cap (`expired`, `dead` events), '' for no events

  Also reads `{prefix}:priorities` and each level's `{prefix}:prio:{n}` (ready counts every
  waiting job: O(levels)), `{prefix}:completed`, `{prefix}:cancelled` and `{prefix}:paused`.

  Output: { ready, delayed, processing, dlq, completed, cancelled, paused (1 or 0) }
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[6], ARGV[4], ARGV[5],
  limit, ARGV[7])
promoteDelayed(prefix, readyKey, delayedKey, now, limit)
local ready = redis.call('LLEN', readyKey)
for _, level in ipairs(redis.call('ZRANGE', prefix .. ':priorities', 0, -1)) do
  ready = ready + redis.call('LLEN', prefix .. ':prio:' .. level)
end
-- Jobs with a group wait in their group's lists, counted as they come and go.
ready = ready + (tonumber(str(redis.call('GET', prefix .. ':groups:ready')) or '0') or 0)
return {
  ready,
  redis.call('ZCARD', delayedKey),
  redis.call('ZCARD', vtKey),
  redis.call('LLEN', dlqKey),
  redis.call('ZCARD', prefix .. ':completed'),
  redis.call('ZCARD', prefix .. ':cancelled'),
  redis.call('EXISTS', prefix .. ':paused'),
}
