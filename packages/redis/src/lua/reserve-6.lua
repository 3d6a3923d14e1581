--[[
  Reserves up to `count` due jobs: requeues expired reservations, promotes due delayed
  jobs (a bounded batch of each), then pops from the front of ready, counts the attempt
  and hides each job until its visibility deadline.

  Input:
    KEYS[1] ready          LIST  (enqueue LPUSHes, reserve RPOPs: the front is the right end)
    KEYS[2] processing     LIST
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST
    KEYS[6] wake           LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch ms)
    ARGV[3] visibility deadline (epoch ms)
    ARGV[4] count: jobs to reserve at most
    ARGV[5] housekeeping batch size
    ARGV[6], ARGV[7] last_error of an expired reservation, before and after the attempt number

  Output: { nextDue, job1, job2, ... } where each job is its 8 fields (common.lua JOB_FIELDS)
    and nextDue (epoch ms) is set only when no job was reserved: when the next delayed job
    or reservation falls due, '' when nothing is pending.
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey, wakeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, now, deadline = ARGV[1], ARGV[2], ARGV[3]
local limit = tonumber(ARGV[5])

requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[6], ARGV[7], limit)
promoteDelayed(readyKey, delayedKey, now, limit)

local out = { '' }
for _ = 1, tonumber(ARGV[4]) do
  local id = redis.call('RPOP', readyKey)
  if not id then break end
  local key = jobKey(prefix, id)
  -- An id whose hash is gone (deleted by hand) is dropped rather than resurrected.
  if redis.call('EXISTS', key) == 1 then
    redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('ZADD', vtKey, deadline, id)
    redis.call('LPUSH', processingKey, id)
    out[#out + 1] = readJob(prefix, id)
  end
end

if #out == 1 then
  out[1] = nextDue(delayedKey, vtKey)
elseif redis.call('LLEN', readyKey) > 0 and redis.call('LLEN', wakeKey) == 0 then
  -- Pass the wake-up on: other blocked workers may be waiting for the jobs left.
  redis.call('LPUSH', wakeKey, '1')
end
return reply(out)
