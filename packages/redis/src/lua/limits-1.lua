--[[
  Sets or reads a queue's flow control (docs/redis-layout.md, "Flow control").

  Input:
    KEYS[1] wake           LIST

    ARGV[1] key prefix
    ARGV[2] what: 'rate', 'group' or 'read'
    'rate':  ARGV[3] max, '' to remove the limit; ARGV[4] per (seconds)
    'group': ARGV[3] the group, '' for every group's limits; ARGV[4] the limits as
             'concurrency,max,per' (each part '' when unset), '' to remove them

  Setting wakes blocked reservers and gives every group waiting at a limit its turn again,
  so the new limits apply at once.

  Output: 'read': { rate_max, rate_per, group, hold_until, { group, limits, ... } } with ''
    for what is unset; else 1.
]]
-- @include "common"

local wakeKey = KEYS[1]
local prefix, op = ARGV[1], ARGV[2]
local limitsKey = prefix .. ':limits'

if op == 'read' then
  local f = redis.call('HMGET', limitsKey, 'rate_max', 'rate_per', 'group', 'hold_until')
  return {
    str(f[1]) or '', str(f[2]) or '', str(f[3]) or '', str(f[4]) or '',
    redis.call('HGETALL', limitsKey .. ':groups'),
  }
end

if op == 'rate' then
  if ARGV[3] == '' then
    redis.call('HDEL', limitsKey, 'rate_max', 'rate_per')
    redis.call('DEL', prefix .. ':starts')
  else
    redis.call('HSET', limitsKey, 'rate_max', ARGV[3], 'rate_per', ARGV[4])
  end
elseif op == 'group' then
  if ARGV[3] == '' then
    if ARGV[4] == '' then
      redis.call('HDEL', limitsKey, 'group')
    else
      redis.call('HSET', limitsKey, 'group', ARGV[4])
    end
  elseif ARGV[4] == '' then
    redis.call('HDEL', limitsKey .. ':groups', ARGV[3])
  else
    redis.call('HSET', limitsKey .. ':groups', ARGV[3], ARGV[4])
  end
  -- Every group waiting at a limit takes its turn again (an operator's call: O(groups)).
  local waitKey = prefix .. ':groups:wait'
  local waiting = redis.call('ZRANGE', waitKey, 0, -1)
  for _, group in ipairs(waiting) do
    redis.call('ZREM', waitKey, group)
    if groupWaiting(groupPrefix(prefix, group)) then toBack(prefix, group) end
  end
else
  return redis.error_reply('ERR limits: unknown operation ' .. tostring(op))
end
wake(wakeKey, WAKE_CAP)
return 1
