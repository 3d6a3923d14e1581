--[[
  Lists dead jobs oldest first, after housekeeping (an expiry on the last attempt moves a
  job to the DLQ). The DLQ is LPUSHed (svc-infra's end), so the oldest is at the right end:
  a page is read from the right with LRANGE, O(offset + limit).

  Input:
    KEYS[1] ready          LIST
    KEYS[2] processing     LIST
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST  (LPUSH on death: the oldest at the right end)

    ARGV[1] key prefix
    ARGV[2] now (epoch seconds)
    ARGV[3] housekeeping batch size
    ARGV[4], ARGV[5] last_error of an expired reservation, before and after the attempt number
    ARGV[6] offset (from the oldest)
    ARGV[7] limit (> 0)
    ARGV[8] now as ISO-8601 UTC
    ARGV[9] the event stream's cap (`expired`, `dead` events), '' for no events

  Output: { ids read, job1, job2, ... }, oldest first, each job its hash as a field/value
    list (HGETALL); ids whose hash is gone are skipped
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[8], ARGV[4], ARGV[5],
  limit, ARGV[9])
promoteDelayed(prefix, readyKey, delayedKey, now, limit)

local offset = tonumber(ARGV[6])
local len = redis.call('LLEN', dlqKey)
local stop = len - 1 - offset
local start = stop - tonumber(ARGV[7]) + 1
if start < 0 then start = 0 end
local ids = {}
if stop >= 0 then ids = redis.call('LRANGE', dlqKey, start, stop) end
local out = { #ids }
for i = #ids, 1, -1 do
  local f = redis.call('HGETALL', jobKey(prefix, ids[i]))
  if #f > 0 then out[#out + 1] = f end
end
return reply(out)
