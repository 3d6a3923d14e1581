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

  Output: { nextDue, job1, job2, ... } where each job is its hash as a field/value list
    (HGETALL, attempts already counted) and nextDue (epoch ms) is set only when no job was reserved: when the next delayed job
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
-- One RPOP with a count (Redis >= 6.2, else a loop) and one LPUSH for the batch: each redis.call costs
-- about as much as the command itself, so fewer calls is what makes a reserve cheap.
local count = tonumber(ARGV[4])
local ids = redis.pcall('RPOP', readyKey, count)
if type(ids) == 'table' and ids.err then
  -- Redis < 6.2 has no RPOP count: one RPOP per job.
  ids = {}
  for _ = 1, count do
    local id = redis.call('RPOP', readyKey)
    if not id then break end
    ids[#ids + 1] = id
  end
end
local taken = {}
if ids then
  for _, id in ipairs(ids) do
    local key = jobKey(prefix, id)
    local f = redis.call('HGETALL', key)
    -- An id whose hash is gone (deleted by hand) is dropped rather than resurrected.
    if #f > 0 then
      setField(f, 'attempts', string.format('%d', redis.call('HINCRBY', key, 'attempts', 1)))
      redis.call('ZADD', vtKey, deadline, id)
      taken[#taken + 1] = id
      out[#out + 1] = f
    end
  end
end
if #taken > 0 then redis.call('LPUSH', processingKey, unpack(taken)) end

if #out == 1 then
  out[1] = nextDue(delayedKey, vtKey)
elseif redis.call('LLEN', readyKey) > 0 and redis.call('LLEN', wakeKey) == 0 then
  -- Pass the wake-up on: other blocked workers may be waiting for the jobs left.
  redis.call('LPUSH', wakeKey, '1')
end
return reply(out)
