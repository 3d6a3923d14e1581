--[[
  Lists dead jobs oldest first, after housekeeping (an expiry on the last attempt moves a
  job to the DLQ).

  Input:
    KEYS[1] ready          LIST
    KEYS[2] processing     LIST
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST  (RPUSH on death: oldest at index 0)

    ARGV[1] key prefix
    ARGV[2] now (epoch ms)
    ARGV[3] housekeeping batch size
    ARGV[4], ARGV[5] last_error of an expired reservation, before and after the attempt number
    ARGV[6] offset
    ARGV[7] limit (> 0)

  Output: { ids read, job1, job2, ... }, each job its hash as a field/value list (HGETALL);
    ids whose hash is gone are skipped
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[4], ARGV[5], limit)
promoteDelayed(readyKey, delayedKey, now, limit)

local offset = tonumber(ARGV[6])
local ids = redis.call('LRANGE', dlqKey, offset, offset + tonumber(ARGV[7]) - 1)
local out = { #ids }
for _, id in ipairs(ids) do
  local f = redis.call('HGETALL', jobKey(prefix, id))
  if #f > 0 then out[#out + 1] = f end
end
return reply(out)
