--[[
  Upgrades a queue from layout version 1 to version 2 (docs/redis-layout.md), a bounded
  batch per call; the client calls it until it answers 1, once per queue object before its
  first other script. Every step is idempotent or resumable, so callers racing each other
  (several workers starting at once) finish the same upgrade. What it converts:
    - `delayed` and `processing_vt` scores in epoch ms (> 1e11) to epoch seconds;
    - the DLQ: version 1 RPUSHed (oldest at index 0), version 2 LPUSHes (oldest at the
      right end). A version-1 DLQ (its first job's available_at is epoch ms) is renamed to
      `{prefix}:dlq:v1` on the first call and moved back newest first (RPOP, RPUSH), after
      any job that died meanwhile;
    - job hashes, by id from 1 to seq: available_at in epoch ms to ISO-8601 UTC, a
      fractional backoff_seconds to its integer ceiling plus svc_jobs_backoff_seconds.
  Version-1 reservations stay in the `processing` LIST: version 2 treats an unmarked
  reservation as svc-infra's and removes it from the list when it ends.
  A queue written by svc-infra (no layout key) goes through the same steps and finds
  nothing to convert.

  Input:
    KEYS[1] layout         STRING ('2' once done; '1>2:<id cursor>' while upgrading)
    KEYS[2] delayed        ZSET
    KEYS[3] processing_vt  ZSET
    KEYS[4] dlq            LIST

    ARGV[1] key prefix (`seq`, the job hashes and `dlq:v1` are built from it)
    ARGV[2] batch size (entries converted per call, at most)

  Output: 1 when the queue is at version 2, 0 when more calls are needed.
]]
-- @include "common"

local layoutKey, delayedKey, vtKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix = ARGV[1]
local seqKey = prefix .. ':seq'
local budget = tonumber(ARGV[2])
local oldDlq = prefix .. ':dlq:v1'

local state = str(redis.call('GET', layoutKey))
if state == '2' then return 1 end
if not state then
  if redis.call('EXISTS', seqKey) == 0 then
    -- A queue that never took a job: nothing to convert.
    redis.call('SET', layoutKey, '2')
    return 1
  end
  local first = str(redis.call('LINDEX', dlqKey, 0))
  if first then
    local at = str(redis.call('HGET', jobKey(prefix, first), 'available_at'))
    if at and string.match(at, '^%d+%.?%d*$') then redis.call('RENAME', dlqKey, oldDlq) end
  end
  state = '1>2:0'
  redis.call('SET', layoutKey, state)
end
local cursor = tonumber(string.match(state, ':(%d+)$')) or 0

for _, key in ipairs({ delayedKey, vtKey }) do
  local rows = redis.call('ZRANGEBYSCORE', key, '1e11', '+inf', 'WITHSCORES', 'LIMIT', 0, budget)
  for i = 1, #rows, 2 do
    redis.call('ZADD', key, fmtSec(tonumber(rows[i + 1]) / 1000), rows[i])
  end
  budget = budget - #rows / 2
  if budget <= 0 then return 0 end
end

while budget > 0 do
  local id = str(redis.call('RPOP', oldDlq))
  if not id then break end
  redis.call('RPUSH', dlqKey, id)
  budget = budget - 1
end
if budget <= 0 then return 0 end

local last = tonumber(str(redis.call('GET', seqKey)) or '0') or 0
while cursor < last and budget > 0 do
  cursor = cursor + 1
  budget = budget - 1
  local key = jobKey(prefix, string.format('%d', cursor))
  local f = redis.call('HMGET', key, 'available_at', 'backoff_seconds')
  local at = str(f[1])
  if at and string.match(at, '^%d+%.?%d*$') then
    redis.call('HSET', key, 'available_at', isoUtc(tonumber(at) / 1000))
  end
  local backoff = str(f[2]) and tonumber(f[2])
  if backoff and backoff ~= math.floor(backoff) then
    redis.call('HSET', key, 'backoff_seconds', string.format('%d', math.ceil(backoff)),
      'svc_jobs_backoff_seconds', f[2])
  end
end
if cursor < last then
  redis.call('SET', layoutKey, '1>2:' .. string.format('%d', cursor))
  return 0
end
redis.call('SET', layoutKey, '2')
return 1
