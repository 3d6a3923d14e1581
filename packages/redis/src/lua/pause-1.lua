--[[
  Pauses or resumes the queue, or reads whether it is paused. While `{prefix}:paused`
  exists reserves return nothing (svc-infra does not read it); resuming wakes blocked
  reservers.

  Input:
    KEYS[1] wake  LIST

    ARGV[1] key prefix
    ARGV[2] 'pause', 'resume' or 'read'

  Output: 1 when the queue is paused (after the call), 0 when not.
]]
-- @include "common"

local wakeKey = KEYS[1]
local pausedKey = ARGV[1] .. ':paused'
if ARGV[2] == 'pause' then
  redis.call('SET', pausedKey, '1')
  return 1
elseif ARGV[2] == 'resume' then
  if redis.call('DEL', pausedKey) == 1 then wake(wakeKey, WAKE_CAP) end
  return 0
end
return redis.call('EXISTS', pausedKey)
