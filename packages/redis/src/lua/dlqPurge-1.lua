--[[
  Deletes the oldest `limit` dead jobs (ids and hashes).

  Input:
    KEYS[1] dlq  LIST

    ARGV[1] key prefix
    ARGV[2] batch size

  Output: how many jobs were deleted.
]]
-- @include "common"

local dlqKey = KEYS[1]
local prefix = ARGV[1]
local ids = redis.call('LRANGE', dlqKey, 0, tonumber(ARGV[2]) - 1)
if #ids == 0 then return 0 end
redis.call('LTRIM', dlqKey, #ids, -1)
for _, id in ipairs(ids) do
  redis.call('DEL', jobKey(prefix, id))
end
return #ids
