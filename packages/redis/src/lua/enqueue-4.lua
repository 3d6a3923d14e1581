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
    ARGV[7] number of jobs n (new jobs take consecutive ids)
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
    if string.sub(seen, 1, 2) == 'r:' then
      -- All new, with consecutive ids: 'r:first:count'.
      local sep = string.find(seen, ':', 3, true)
      local first = tonumber(string.sub(seen, 3, sep - 1))
      for i = 0, tonumber(string.sub(seen, sep + 1)) - 1 do
        out[#out + 1] = string.format('%d', first + i)
      end
      return reply(out)
    end
    for entry in string.gmatch(seen, '[^,]+') do
      local id = string.sub(entry, 3)
      if string.sub(entry, 1, 1) == 'n' then out[#out + 1] = id else out[#out + 1] = existing(id) end
    end
    return reply(out)
  end
end

local n = tonumber(ARGV[7])

-- Dedupe hits first, so the new jobs can take consecutive ids from one INCRBY. A later
-- item with the key of an earlier new item of this call is a hit on that item.
local hits = {}
local nhits = 0
local firstWithKey = {}
for i = 0, n - 1 do
  local dedupeKey = ARGV[7 + i * 7 + 7]
  if dedupeKey ~= '' then
    local v = redis.call('GET', prefix .. ':dedupe:' .. dedupeKey)
    if v then
      local sep = string.find(v, ':', 1, true)
      if sep and tonumber(string.sub(v, 1, sep - 1)) > tonumber(now) then
        hits[i] = string.sub(v, sep + 1)
      end
    end
    if not hits[i] then
      local j = firstWithKey[dedupeKey]
      if j then hits[i] = j else firstWithKey[dedupeKey] = i end
    end
    if hits[i] then nhits = nhits + 1 end
  end
end

local created = n - nhits
local nextId = 0
if created > 0 then nextId = redis.call('INCRBY', seqKey, created) - created end
local firstId = nextId + 1
local record = {}
local ready = {}
local idOf = {}
for i = 0, n - 1 do
  local b = 7 + i * 7
  local hit = hits[i]
  if type(hit) == 'number' then hit = idOf[hit] end
  if hit then
    out[#out + 1] = existing(hit)
    record[i + 1] = 'd:' .. hit
    idOf[i] = hit
  else
    nextId = nextId + 1
    local id = string.format('%d', nextId)
    idOf[i] = id
    local availableAt = ARGV[b + 3]
    redis.call('HSET', jobKey(prefix, id), 'id', id, 'name', ARGV[b + 1], 'payload', ARGV[b + 2],
      'available_at', availableAt, 'attempts', '0', 'max_attempts', ARGV[b + 5],
      'backoff_seconds', ARGV[b + 6], 'last_error', '')
    if ARGV[b + 4] == '1' then
      redis.call('ZADD', delayedKey, availableAt, id)
    else
      ready[#ready + 1] = id
    end
    local dedupeKey = ARGV[b + 7]
    if dedupeKey ~= '' then
      redis.call('SET', prefix .. ':dedupe:' .. dedupeKey, ARGV[5] .. ':' .. id, 'PX', ARGV[6])
    end
    out[#out + 1] = id
    if nhits > 0 then record[i + 1] = 'n:' .. id end
  end
end
-- One LPUSH for all ready jobs, in order (LPUSH a b pushes a first, as two calls would).
if #ready > 0 then redis.call('LPUSH', readyKey, unpack(ready)) end

-- Delayed jobs wake waiters too, so they re-arm their timeout for the new due time.
wake(wakeKey, created)
if tokenKey ~= '' then
  local text
  -- All new (the usual case): the ids are consecutive, so a range records them in a few
  -- bytes instead of a few per job for the token's lifetime.
  if nhits == 0 then
    text = 'r:' .. string.format('%d', firstId) .. ':' .. created
  else
    text = table.concat(record, ',')
  end
  redis.call('SET', tokenKey, text, 'PX', ARGV[4])
end
return reply(out)
