--[[
  Hands a reserved job back to the FRONT of its priority's list (the right end, where
  svc-infra's reserve pops too; `ready` for priority 0) without counting the attempt (used when a worker stops before the job
  finished). Fenced by the attempt number.

  Input:
    KEYS[1] processing     LIST  (svc-infra's reservations)
    KEYS[2] processing_vt  ZSET
    KEYS[3] ready          LIST
    KEYS[4] wake           LIST

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one

  Output: 1 when released, 0 when fenced off.
]]
-- @include "common"

local processingKey, vtKey, readyKey, wakeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, id = ARGV[1], ARGV[2]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end

local key = jobKey(prefix, id)
endReservation(prefix, processingKey, vtKey, id)
redis.call('HDEL', key, 'visible_at')
if redis.call('HINCRBY', key, 'attempts', -1) < 0 then
  redis.call('HSET', key, 'attempts', '0')
end
pushWaiting(prefix, readyKey, id, str(redis.call('HGET', key, PRIORITY)), true)
wake(wakeKey, 1)
return 1
