--[[
  Hands a reserved job back to the FRONT of its priority's list (the right end, where
  svc-infra's reserve pops too; `ready` for priority 0) without counting the attempt (used when a worker stops before the job
  finished). Fenced by the attempt number.

  Input:
    KEYS[1] processing     LIST  (svc-infra's reservations)
    KEYS[2] processing_vt  ZSET
    KEYS[3] ready          LIST
    KEYS[4] wake           LIST

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one
    ARGV[4] seconds to wait before it may run again, '0' for none (docs/contract.md, "Flow
            control"): with scope 'job' the job waits in `delayed`; with 'group' its group
            is held (`{prefix}:groups:held`), with 'queue' the queue (`hold_until` of
            `{prefix}:limits`), and the job goes to the front
    ARGV[5] scope: 'job', 'group' or 'queue'
    ARGV[6] now (epoch seconds)

  Output: 1 when released, 0 when fenced off.
]]
-- @include "common"

local processingKey, vtKey, readyKey, wakeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, id = ARGV[1], ARGV[2]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end

local key = jobKey(prefix, id)
endReservation(prefix, processingKey, vtKey, id)
redis.call('HDEL', key, 'visible_at')
if redis.call('HINCRBY', key, 'attempts', -1) < 0 then
  redis.call('HSET', key, 'attempts', '0')
end
local f = redis.call('HMGET', key, PRIORITY, GROUP, 'available_at')
local group = str(f[2])
local delay, scope = tonumber(ARGV[4]) or 0, ARGV[5]
if delay > 0 then
  local untilS = tonumber(ARGV[6]) + delay
  if scope == 'queue' then
    local held = tonumber(str(redis.call('HGET', prefix .. ':limits', 'hold_until')) or '')
    if not held or held < untilS then
      redis.call('HSET', prefix .. ':limits', 'hold_until', fmtSec(untilS))
    end
  elseif scope == 'group' and group then
    local held = tonumber(str(redis.call('HGET', prefix .. ':groups:held', group)) or '')
    if not held or held < untilS then
      redis.call('HSET', prefix .. ':groups:held', group, fmtSec(untilS))
    end
  else
    -- The job alone waits, delayed.
    keepCreatedAt(key, str(f[3]))
    redis.call('HSET', key, 'available_at', isoUtc(untilS))
    redis.call('ZADD', prefix .. ':delayed', fmtSec(untilS), id)
    wake(wakeKey, 1)
    return 1
  end
end
pushWaiting(prefix, readyKey, id, str(f[1]), true, group)
wake(wakeKey, 1)
return 1
