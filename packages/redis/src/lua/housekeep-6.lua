--[[
  Requeues expired reservations and promotes due delayed jobs, a bounded batch of each.
  Reserve does the same on every call; this runs it alone (e.g. from a runbook).

  Input:
    KEYS[1] ready          LIST
    KEYS[2] processing     LIST
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST
    KEYS[6] wake           LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch seconds)
    ARGV[3] batch size
    ARGV[4], ARGV[5] last_error of an expired reservation, before and after the attempt number
    ARGV[6] now as ISO-8601 UTC
    ARGV[7] the event stream's cap (`expired`, `dead` events), '' for no events

  Output: { requeued (expired reservations handled), promoted (delayed jobs made ready) }
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey, wakeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local requeued = requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[6],
  ARGV[4], ARGV[5], limit, ARGV[7])
local promoted = promoteDelayed(prefix, readyKey, delayedKey, now, limit)
wake(wakeKey, requeued + promoted)
return { requeued, promoted }
