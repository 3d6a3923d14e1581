--[[
  Moves dead jobs back to the back of their priority's list (`ready` for priority 0) with
  attempts reset to 0 and svc_jobs_state removed: one by id, or the
  oldest `limit` of them (RPOP: the oldest is at the right end, O(1) each). Requeueing one
  id is an LREM over the DLQ (the one scan left: the DLQ is svc-infra's LIST).

  Input:
    KEYS[1] dlq    LIST  (LPUSH on death: the oldest at the right end)
    KEYS[2] ready  LIST
    KEYS[3] wake   LIST

    ARGV[1] key prefix
    ARGV[2] now as ISO-8601 UTC
    ARGV[3] job id, or '' to take the oldest ARGV[4] dead jobs
    ARGV[4] batch size when ARGV[3] is ''

  Output: how many jobs were moved (0 when the id is not in the DLQ).
]]
-- @include "common"

local dlqKey, readyKey, wakeKey = KEYS[1], KEYS[2], KEYS[3]
local prefix, nowIso = ARGV[1], ARGV[2]
local ids = {}
if ARGV[3] ~= '' then
  if redis.call('LREM', dlqKey, 1, ARGV[3]) == 0 then return 0 end
  ids = { ARGV[3] }
else
  for _ = 1, tonumber(ARGV[4]) do
    local id = str(redis.call('RPOP', dlqKey))
    if not id then break end
    ids[#ids + 1] = id
  end
  if #ids == 0 then return 0 end
end
for _, id in ipairs(ids) do
  local key = jobKey(prefix, id)
  local f = redis.call('HMGET', key, 'available_at', PRIORITY, GROUP)
  keepCreatedAt(key, str(f[1]))
  redis.call('HSET', key, 'attempts', '0', 'available_at', nowIso)
  redis.call('HDEL', key, OURS, 'visible_at', STATE)
  pushWaiting(prefix, readyKey, id, str(f[2]), false, str(f[3]))
end
wake(wakeKey, #ids)
return #ids
