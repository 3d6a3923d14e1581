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
    ARGV[5] dedupe key time to live, ms (a key holds until now + this)
    ARGV[6] default max_attempts
    ARGV[7] default backoff_seconds
    then 3 per job (the number of jobs is (#ARGV - 7) / 3; new jobs take consecutive ids):
      name, payload JSON, options
    options is '' for the defaults (available now, ready, ARGV[6] and ARGV[7], no dedupe
    key; most jobs), else 'available_at,delayed,max_attempts,backoff_seconds,dedupe key'
    where delayed is '1' or '0' and the dedupe key (all the text after the fourth comma,
    commas included) is '' for none.

  Output:
    {'r', first id, count}  every job is new and took the ids first .. first + count - 1
    otherwise one entry per job, in order:
      id string            a new job
      array of 8 fields    a dedupe hit: the first job's fields (see common.lua JOB_FIELDS)
      array of 1 (the id)  a dedupe hit whose job already completed
]]
-- @include "common"

local readyKey, delayedKey, seqKey, wakeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, now = ARGV[1], ARGV[2]
local HEADER = 7
local n = (#ARGV - HEADER) / 3

local function existing(id)
  if redis.call('EXISTS', jobKey(prefix, id)) == 1 then return readJob(prefix, id) end
  return { id }
end

-- What a token recorded: 'r:first:count' (all new) or 'n:id,d:id,...' per job.
local function replay(seen)
  if string.sub(seen, 1, 2) == 'r:' then
    local sep = string.find(seen, ':', 3, true)
    return { 'r', string.sub(seen, 3, sep - 1), string.sub(seen, sep + 1) }
  end
  local out = {}
  for entry in string.gmatch(seen, '[^,]+') do
    local id = string.sub(entry, 3)
    if string.sub(entry, 1, 1) == 'n' then out[#out + 1] = id else out[#out + 1] = existing(id) end
  end
  return reply(out)
end

-- Options of the jobs that have some (most have none): [i] = { available_at, delayed,
-- max_attempts, backoff_seconds, dedupe key }.
local opts = {}
local anyDedupe = false
for i = 0, n - 1 do
  local o = ARGV[HEADER + i * 3 + 3]
  if o ~= '' then
    local c1 = string.find(o, ',', 1, true)
    local c2 = string.find(o, ',', c1 + 1, true)
    local c3 = string.find(o, ',', c2 + 1, true)
    local c4 = string.find(o, ',', c3 + 1, true)
    local dedupeKey = string.sub(o, c4 + 1)
    if dedupeKey ~= '' then anyDedupe = true end
    opts[i] = { string.sub(o, 1, c1 - 1), string.sub(o, c1 + 1, c2 - 1),
      string.sub(o, c2 + 1, c3 - 1), string.sub(o, c3 + 1, c4 - 1), dedupeKey }
  end
end

-- Dedupe hits first, so the new jobs can take consecutive ids from one INCRBY. A later
-- item with the key of an earlier new item of this call is a hit on that item (hits[i] is
-- then that item's index, a number, else the hit's id, a string).
local hits = {}
local nhits = 0
if anyDedupe then
  local firstWithKey = {}
  for i = 0, n - 1 do
    local dedupeKey = opts[i] and opts[i][5] or ''
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
end

local created = n - nhits
local seq = 0
if created > 0 then seq = redis.call('INCRBY', seqKey, created) - created end

-- The token records the outcome before anything is written: SET NX claims it in one call
-- (no GET first), and a resent call finds it taken, gives the ids back and replays.
local tokenKey = ''
local idOf = {}
local record
if ARGV[3] ~= '' then
  tokenKey = prefix .. ':token:' .. ARGV[3]
  if nhits == 0 then
    -- All new (the usual case): a range records the ids in a few bytes instead of a few
    -- per job for the token's lifetime.
    record = 'r:' .. string.format('%d', seq + 1) .. ':' .. created
  else
    local entries = {}
    local nextId = seq
    for i = 0, n - 1 do
      local hit = hits[i]
      if type(hit) == 'number' then hit = idOf[hit] end
      if hit then
        entries[i + 1] = 'd:' .. hit
        idOf[i] = hit
      else
        nextId = nextId + 1
        idOf[i] = string.format('%d', nextId)
        entries[i + 1] = 'n:' .. idOf[i]
      end
    end
    record = table.concat(entries, ',')
  end
  if not redis.call('SET', tokenKey, record, 'NX', 'PX', ARGV[4]) then
    if created > 0 then redis.call('DECRBY', seqKey, created) end
    return replay(redis.call('GET', tokenKey))
  end
end

local dedupeValue
if nhits < n and anyDedupe then
  dedupeValue = string.format('%.17g', tonumber(now) + tonumber(ARGV[5])) .. ':'
end
local defaultMax, defaultBackoff = ARGV[6], ARGV[7]
local out = {}
local ready = {}
local nextId = seq
for i = 0, n - 1 do
  local b = HEADER + i * 3
  local hit = hits[i]
  if hit then
    if type(hit) == 'number' then hit = idOf[hit] end
    out[i + 1] = existing(hit)
    idOf[i] = hit
  else
    nextId = nextId + 1
    local id = string.format('%d', nextId)
    idOf[i] = id
    local o = opts[i]
    if o == nil then
      redis.call('HSET', prefix .. ':job:' .. id, 'id', id, 'name', ARGV[b + 1],
        'payload', ARGV[b + 2], 'available_at', now, 'attempts', '0',
        'max_attempts', defaultMax, 'backoff_seconds', defaultBackoff, 'last_error', '')
      ready[#ready + 1] = id
    else
      local availableAt = o[1]
      redis.call('HSET', prefix .. ':job:' .. id, 'id', id, 'name', ARGV[b + 1],
        'payload', ARGV[b + 2], 'available_at', availableAt, 'attempts', '0',
        'max_attempts', o[3], 'backoff_seconds', o[4], 'last_error', '')
      if o[2] == '1' then
        redis.call('ZADD', delayedKey, availableAt, id)
      else
        ready[#ready + 1] = id
      end
      if o[5] ~= '' then
        redis.call('SET', prefix .. ':dedupe:' .. o[5], dedupeValue .. id, 'PX', ARGV[5])
      end
    end
    out[i + 1] = id
  end
end
-- One LPUSH for all ready jobs, in order (LPUSH a b pushes a first, as two calls would).
if #ready > 0 then redis.call('LPUSH', readyKey, unpack(ready)) end

-- Delayed jobs wake waiters too, so they re-arm their timeout for the new due time.
wake(wakeKey, created)
if nhits == 0 then return { 'r', string.format('%d', seq + 1), string.format('%d', created) } end
return reply(out)
