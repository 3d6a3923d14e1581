--[[
  Adds one or more jobs, in order, with dedupe and a resend token.

  Input:
    KEYS[1] ready      LIST
    KEYS[2] delayed    ZSET
    KEYS[3] seq        STRING
    KEYS[4] wake       LIST

    ARGV[1] key prefix (job hashes, dedupe and token keys are built from it)
    ARGV[2] now (epoch ms)
    ARGV[3] resend token, '' for none: a resent call returns what the first one did
    ARGV[4] token time to live, ms
    ARGV[5] dedupe expiry (epoch ms, now + 24 h)
    ARGV[6] dedupe key time to live, ms
    ARGV[7] number of jobs n
    then 7 per job: name, payload JSON, available_at (epoch ms), '1' if delayed else '0',
    max_attempts, backoff_seconds, dedupe key ('' for none)

  Output: one entry per job, in order:
    id string            a new job
    array of 8 fields    a dedupe hit: the first job's fields (see common.lua JOB_FIELDS)
    array of 1 (the id)  a dedupe hit whose job already completed
]]
-- @include "common"

local readyKey, delayedKey, seqKey, wakeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, now = ARGV[1], ARGV[2]
local tokenKey = ''
if ARGV[3] ~= '' then tokenKey = prefix .. ':token:' .. ARGV[3] end

local function existing(id)
  if redis.call('EXISTS', jobKey(prefix, id)) == 1 then return readJob(prefix, id) end
  return { id }
end

local out = {}
if tokenKey ~= '' then
  local seen = redis.call('GET', tokenKey)
  if seen then
    for entry in string.gmatch(seen, '[^,]+') do
      local id = string.sub(entry, 3)
      if string.sub(entry, 1, 1) == 'n' then out[#out + 1] = id else out[#out + 1] = existing(id) end
    end
    return reply(out)
  end
end

local record = {}
local created = 0
local n = tonumber(ARGV[7])
for i = 0, n - 1 do
  local b = 7 + i * 7
  local dedupeKey = ARGV[b + 7]
  local hit = nil
  local dedupeName = nil
  if dedupeKey ~= '' then
    dedupeName = prefix .. ':dedupe:' .. dedupeKey
    local v = redis.call('GET', dedupeName)
    if v then
      local sep = string.find(v, ':', 1, true)
      if sep and tonumber(string.sub(v, 1, sep - 1)) > tonumber(now) then
        hit = string.sub(v, sep + 1)
      end
    end
  end
  if hit then
    out[#out + 1] = existing(hit)
    record[#record + 1] = 'd:' .. hit
  else
    local id = string.format('%d', redis.call('INCR', seqKey))
    local availableAt = ARGV[b + 3]
    redis.call('HSET', jobKey(prefix, id), 'id', id, 'name', ARGV[b + 1], 'payload', ARGV[b + 2],
      'available_at', availableAt, 'attempts', '0', 'max_attempts', ARGV[b + 5],
      'backoff_seconds', ARGV[b + 6], 'last_error', '')
    if ARGV[b + 4] == '1' then
      redis.call('ZADD', delayedKey, availableAt, id)
    else
      redis.call('LPUSH', readyKey, id)
    end
    if dedupeName then
      redis.call('SET', dedupeName, ARGV[5] .. ':' .. id, 'PX', ARGV[6])
    end
    created = created + 1
    out[#out + 1] = id
    record[#record + 1] = 'n:' .. id
  end
end

-- Delayed jobs wake waiters too, so they re-arm their timeout for the new due time.
wake(wakeKey, created)
if tokenKey ~= '' then
  redis.call('SET', tokenKey, table.concat(record, ','), 'PX', ARGV[4])
end
return reply(out)
