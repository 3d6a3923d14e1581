--[[
  Records a reserved job's progress (any JSON value) in svc_jobs_progress and emits a
  `progress` event. Fenced by the attempt number, like ack.

  Input:
    KEYS[1] processing_vt  ZSET

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one
    ARGV[4] now (epoch seconds)
    ARGV[5] the value as JSON text
    ARGV[6] the event stream's cap, '' for no events

  Output: 1 when recorded, 0 when fenced off.
]]
-- @include "common"

local vtKey = KEYS[1]
local prefix, id = ARGV[1], ARGV[2]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end
local key = jobKey(prefix, id)
redis.call('HSET', key, 'svc_jobs_progress', ARGV[5])
if ARGV[6] ~= '' then
  emit(prefix, ARGV[6], ARGV[4], 'progress', id, str(redis.call('HGET', key, 'name')),
    'progress', ARGV[5])
end
return 1
