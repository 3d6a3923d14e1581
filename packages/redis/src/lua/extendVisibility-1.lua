--[[
  Moves a reserved job's visibility deadline. Fenced by the attempt number.

  Input:
    KEYS[1] processing_vt  ZSET

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one
    ARGV[4] new deadline (epoch seconds)

  Output: 1 when extended, 0 when fenced off.
]]
-- @include "common"

local vtKey = KEYS[1]
local prefix, id = ARGV[1], ARGV[2]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end
redis.call('ZADD', vtKey, ARGV[4], id)
local group = str(redis.call('HGET', jobKey(prefix, id), GROUP))
if group then redis.call('ZADD', groupPrefix(prefix, group) .. ':active', ARGV[4], id) end
return 1
