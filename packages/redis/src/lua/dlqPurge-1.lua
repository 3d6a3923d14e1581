--[[
  Deletes the oldest `limit` dead jobs (ids and hashes); the oldest is at the right end.

  Input:
    KEYS[1] dlq  LIST  (LPUSH on death: the oldest at the right end)

    ARGV[1] key prefix
    ARGV[2] batch size

  Output: how many jobs were deleted.
]]
-- @include "common"

local dlqKey = KEYS[1]
local prefix = ARGV[1]
local n = 0
for _ = 1, tonumber(ARGV[2]) do
  local id = str(redis.call('RPOP', dlqKey))
  if not id then break end
  redis.call('DEL', jobKey(prefix, id))
  n = n + 1
end
return n
