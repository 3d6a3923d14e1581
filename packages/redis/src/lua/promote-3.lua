--[[
  Makes a delayed job ready now: it joins the back of its priority's list (its group's
  when it has one) with available_at now. O(log n).

  Input:
    KEYS[1] ready          LIST
    KEYS[2] delayed        ZSET
    KEYS[3] wake           LIST

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] now as ISO-8601 UTC
    ARGV[4] now (epoch seconds)

  Output: 1 when promoted, 0 when the job is not delayed (a delayed job already due is
    ready, as getJob says: it is moved like housekeeping would, and 0 is returned).
]]
-- @include "common"

local readyKey, delayedKey, wakeKey = KEYS[1], KEYS[2], KEYS[3]
local prefix, id = ARGV[1], ARGV[2]
local due = str(redis.call('ZSCORE', delayedKey, id))
if not due then return 0 end
redis.call('ZREM', delayedKey, id)
local wasDue = tonumber(due) <= tonumber(ARGV[4])
local key = jobKey(prefix, id)
local f = redis.call('HMGET', key, PRIORITY, GROUP, 'available_at')
if not wasDue then
  keepCreatedAt(key, str(f[3]))
  redis.call('HSET', key, 'available_at', ARGV[3])
end
pushWaiting(prefix, readyKey, id, str(f[1]), false, str(f[2]))
wake(wakeKey, 1)
if wasDue then return 0 end
return 1
