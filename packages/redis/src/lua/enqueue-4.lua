--[[
  Adds one or more jobs, in order, with dedupe and a resend token. Jobs cross by field
  name: the call names its columns once and each job gives a value per column.

  Input:
    KEYS[1] ready      LIST
    KEYS[2] delayed    ZSET
    KEYS[3] seq        STRING
    KEYS[4] wake       LIST

    ARGV[1] key prefix (job hashes, dedupe and token keys are built from it)
    ARGV[2] now (epoch seconds)
    ARGV[3] now as ISO-8601 UTC (the default available_at)
    ARGV[4] resend token, '' for none: a resent call returns what the first one did
    ARGV[5] token time to live, ms
    ARGV[6] dedupe key time to live, ms (a key holds until now + this)
    ARGV[7] the event stream's cap (an `enqueued` event per new job), '' for no events
    ARGV[8] c, then c names: the columns, the fields of a job hash (`hash` below, or
      the optional svc_jobs_backoff_seconds, svc_jobs_priority, svc_jobs_created_at,
      svc_jobs_traceparent, svc_jobs_tracestate) this
      call's jobs set (name and payload, usually nothing else), 'due' (not a field: the
      delayed set's score, epoch seconds) when some job is delayed, and 'dedupe_key' (not a
      field: the job's dedupe key) when some job has one. A name that is none of these is
      refused before anything is written.
    then per job (new jobs take consecutive ids): c values, one per column; '' keeps the
      field's default (no dedupe key for dedupe_key; max_attempts, backoff_seconds and
      the svc_jobs_* fields are written only when given). A job with a due time waits in
      delayed until then; one without is ready now, in `ready` or, with a svc_jobs_priority,
      in `{prefix}:prio:{n}` (registered in `{prefix}:priorities`).

  Output:
    {'r', first id, count}  every job is new and took the ids first .. first + count - 1
    otherwise one entry per job, in order:
      id string            a new job
      field/value array    a dedupe hit: the first job's hash as HGETALL gives it, or
                           { 'id', id, 'available_at', now } when it already completed
]]
-- The fast path: one job with a name and a payload and nothing else, ready now (what a web
-- request's enqueue usually is). The same writes as the general path below, before the
-- shared helpers are even defined, so a call allocates next to nothing for Lua to collect:
-- the id, the token, the hash, the ready list, one wake-up (wake() of the helpers inlined,
-- with its WAKE_CAP of 16), and the event (emit() of the helpers inlined).
-- A traced enqueue (docs/tracing.md) takes it too: a third column, svc_jobs_traceparent,
-- whose value is written beside name and payload.
local fastTrace = #ARGV == 14 and ARGV[8] == '3' and ARGV[9] == 'name' and ARGV[10] == 'payload'
  and ARGV[11] == 'svc_jobs_traceparent' and ARGV[14] ~= ''
if fastTrace or (#ARGV == 12 and ARGV[8] == '2' and ARGV[9] == 'name' and ARGV[10] == 'payload') then
  local jobName, jobPayload = ARGV[11], ARGV[12]
  if fastTrace then jobName, jobPayload = ARGV[12], ARGV[13] end
  local id = string.format('%d', redis.call('INCR', KEYS[3]))
  if ARGV[4] ~= '' then
    local tokenKey = ARGV[1] .. ':token:' .. ARGV[4]
    if not redis.call('SET', tokenKey, 'r:' .. id .. ':1', 'NX', 'PX', ARGV[5]) then
      redis.call('DECR', KEYS[3])
      local seen = redis.call('GET', tokenKey)
      local sep = string.find(seen, ':', 3, true)
      return { 'r', string.sub(seen, 3, sep - 1), string.sub(seen, sep + 1) }
    end
  end
  if fastTrace then
    redis.call('HSET', ARGV[1] .. ':job:' .. id, 'id', id, 'name', jobName, 'payload', jobPayload,
      'available_at', ARGV[3], 'svc_jobs_traceparent', ARGV[14])
  else
    redis.call('HSET', ARGV[1] .. ':job:' .. id, 'id', id, 'name', jobName, 'payload', jobPayload,
      'available_at', ARGV[3])
  end
  redis.call('LPUSH', KEYS[1], id)
  if redis.call('LPUSH', KEYS[4], '1') > 16 then redis.call('LTRIM', KEYS[4], 0, 15) end
  if ARGV[7] ~= '' then
    redis.call('XADD', ARGV[1] .. ':events', 'MAXLEN', '~', ARGV[7], '*', 'type', 'enqueued',
      'job', id, 'name', jobName, 'at', string.format('%.0f', tonumber(ARGV[2]) * 1000.0),
      'delay', '0', 'priority', '0')
  end
  return { 'r', id, '1' }
end

-- @include "common"

local readyKey, delayedKey, seqKey, wakeKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, now, nowIso, maxLen = ARGV[1], ARGV[2], ARGV[3], ARGV[7]

-- A new job's hash, the HSET of every new job: the fields every job has, in the order they
-- are written (job-hash.ts newJobDefaults() holds the same), as svc-infra writes them (no
-- last_error until a failure). The fields whose value is svc-infra's default when absent
-- (attempts 0, max_attempts 5, backoff_seconds 60, which are svc-jobs's defaults too) are
-- written only when a job sets another value: svc-infra reads them with those defaults, and
-- leaving them out keeps a waiting job's hash small. slot[name] is the index of a field's
-- value in `hash`, dflt[index] its default.
local hash = { 'id', '', 'name', '', 'payload', '', 'available_at', nowIso }
local slot, dflt = {}, {}
for k = 3, #hash, 2 do
  slot[hash[k]] = k + 1
  dflt[k + 1] = hash[k + 1]
end
local nbase = #hash
local OPTIONAL = {
  max_attempts = true,
  backoff_seconds = true,
  svc_jobs_backoff_seconds = true,
  [PRIORITY] = true,
  [CREATED_AT] = true,
  [GROUP] = true,
  svc_jobs_traceparent = true,
  svc_jobs_tracestate = true,
}

-- The columns: colSlot[c] is where column c goes in the hash (none for dedupe_key and due);
-- optional[c] is the field name of an optional column, appended when a job gives a value.
local colAt = 8
local ncols = tonumber(ARGV[colAt])
if ncols < 1 then return redis.error_reply('ERR enqueue: no columns') end
local colSlot = {}
local optional = {}
local dedupeCol, dueCol, prioCol, groupCol
for c = 1, ncols do
  local name = ARGV[colAt + c]
  if name == PRIORITY then prioCol = c end
  if name == GROUP then groupCol = c end
  if name == 'dedupe_key' then
    dedupeCol = c
  elseif name == 'due' then
    dueCol = c
  elseif OPTIONAL[name] then
    optional[#optional + 1] = c
  elseif slot[name] then
    colSlot[c] = slot[name]
  else
    return redis.error_reply('ERR enqueue: unknown field ' .. name)
  end
end
-- Job i's value of column c (i from 0) is ARGV[rows + i * ncols + c].
local rows = colAt + ncols
local n = (#ARGV - rows) / ncols
local anyDedupe = dedupeCol ~= nil

local function dedupeKeyOf(i)
  local v = ARGV[rows + i * ncols + dedupeCol]
  if v ~= '' then return v end
  return nil
end

local function existing(id)
  local f = redis.call('HGETALL', jobKey(prefix, id))
  if #f > 0 then return f end
  -- It completed: the caller fills in the rest from what it sent, as available now.
  return { 'id', id, 'available_at', nowIso }
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

-- Dedupe hits first, so the new jobs can take consecutive ids from one INCRBY. A later
-- item with the key of an earlier new item of this call is a hit on that item (hits[i] is
-- then that item's index, a number, else the hit's id, a string).
local hits = {}
local nhits = 0
if anyDedupe then
  local firstWithKey = {}
  for i = 0, n - 1 do
    local dedupeKey = dedupeKeyOf(i)
    if dedupeKey then
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
if ARGV[4] ~= '' then
  tokenKey = prefix .. ':token:' .. ARGV[4]
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
  if not redis.call('SET', tokenKey, record, 'NX', 'PX', ARGV[5]) then
    if created > 0 then redis.call('DECRBY', seqKey, created) end
    return replay(redis.call('GET', tokenKey))
  end
end

local dedupeValue
if nhits < n and anyDedupe then
  dedupeValue = fmtSec(tonumber(now) + tonumber(ARGV[6]) / 1000) .. ':'
end
-- One HSET per job: the job's own values over the defaults, so every hash has the same
-- fields in the same order whatever the job brought.
local out = {}
local ready = {}
local nextId = seq
for i = 0, n - 1 do
  local hit = hits[i]
  if hit then
    if type(hit) == 'number' then hit = idOf[hit] end
    out[i + 1] = existing(hit)
    idOf[i] = hit
  else
    nextId = nextId + 1
    local id = string.format('%d', nextId)
    idOf[i] = id
    local row = rows + i * ncols
    for c = 1, ncols do
      local s = colSlot[c]
      if s and ARGV[row + c] ~= '' then hash[s] = ARGV[row + c] end
    end
    hash[2] = id
    local len = nbase
    for _, c in ipairs(optional) do
      local v = ARGV[row + c]
      if v ~= '' then
        hash[len + 1] = ARGV[colAt + c]
        hash[len + 2] = v
        len = len + 2
      end
    end
    redis.call('HSET', prefix .. ':job:' .. id, unpack(hash, 1, len))
    local jobName = hash[slot.name]
    -- Back to the defaults for the next job.
    for c = 1, ncols do
      local s = colSlot[c]
      if s then hash[s] = dflt[s] end
    end
    local prio = prioCol and ARGV[row + prioCol] or ''
    local group = groupCol and str(ARGV[row + groupCol])
    if group == '' then group = nil end
    local delay = '0'
    if dueCol and ARGV[row + dueCol] ~= '' then
      redis.call('ZADD', delayedKey, ARGV[row + dueCol], id)
      delay = fmtSec(tonumber(ARGV[row + dueCol]) - tonumber(now))
    elseif isLevel(prio) or group then
      pushWaiting(prefix, readyKey, id, prio, false, group)
    else
      ready[#ready + 1] = id
    end
    if maxLen ~= '' then
      local p = prio
      if p == '' then p = '0' end
      emit(prefix, maxLen, now, 'enqueued', id, jobName, 'delay', delay, 'priority', p)
    end
    local dedupeKey = anyDedupe and dedupeKeyOf(i)
    if dedupeKey then
      redis.call('SET', prefix .. ':dedupe:' .. dedupeKey, dedupeValue .. id, 'PX', ARGV[6])
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
