--[[
  Moves dead jobs back to the back of ready with attempts reset to 0: one by id, or the
  oldest `limit` of them.

  Input:
    KEYS[1] dlq    LIST
    KEYS[2] ready  LIST
    KEYS[3] wake   LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch ms)
    ARGV[3] job id, or '' to take the oldest ARGV[4] dead jobs
    ARGV[4] batch size when ARGV[3] is ''

  Output: how many jobs were moved (0 when the id is not in the DLQ).
]]
-- @include "common"

local dlqKey, readyKey, wakeKey = KEYS[1], KEYS[2], KEYS[3]
local prefix, now = ARGV[1], ARGV[2]
local ids
if ARGV[3] ~= '' then
  if redis.call('LREM', dlqKey, 1, ARGV[3]) == 0 then return 0 end
  ids = { ARGV[3] }
else
  ids = redis.call('LRANGE', dlqKey, 0, tonumber(ARGV[4]) - 1)
  if #ids == 0 then return 0 end
  redis.call('LTRIM', dlqKey, #ids, -1)
end
for _, id in ipairs(ids) do
  redis.call('HSET', jobKey(prefix, id), 'attempts', '0', 'available_at', now)
  redis.call('LPUSH', readyKey, id)
end
wake(wakeKey, #ids)
return #ids
