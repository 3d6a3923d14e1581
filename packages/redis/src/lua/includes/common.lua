-- Helpers shared by the transition scripts (inlined by the loader at `-- @include "common"`).
-- Layout version 2 (docs/redis-layout.md): sorted-set scores are epoch SECONDS (fractions
-- allowed), passed in from the queue's clock as strings; `available_at` is an ISO-8601 UTC
-- string (`2030-01-01T00:00:00.000000+00:00`), the form Python's datetime.fromisoformat reads.

local unpack = unpack or table.unpack

-- Wake-up tokens for blocked reservers are few: a burst of enqueues must not pile up
-- thousands of spurious wake-ups for workers that were busy at the time.
local WAKE_CAP = 16

-- The hash field that marks a reservation svc-jobs holds: the attempt number it reserved
-- with. A reservation without it (or with an older number) is svc-infra's, whose id is also
-- in the `processing` LIST.
local OURS = 'svc_jobs_reserved'

-- What an absent max_attempts / backoff_seconds field means, as svc-infra reads them
-- (svc-jobs's defaults too): new jobs leave them out unless they set another value.
local DEFAULT_MAX_ATTEMPTS = '5'
local DEFAULT_BACKOFF_SECONDS = '60'

-- Seconds as a decimal string with at most 6 decimals (microseconds), no trailing zeros.
local function fmtSec(n)
  local s = string.format('%.6f', n)
  s = string.gsub(s, '0+$', '')
  s = string.gsub(s, '%.$', '')
  return s
end

-- Epoch seconds -> ISO-8601 UTC with microseconds and a `+00:00` offset.
local function isoUtc(t)
  local secs = math.floor(t)
  local micros = math.floor((t - secs) * 1000000 + 0.5)
  if micros >= 1000000 then
    secs = secs + 1
    micros = micros - 1000000
  end
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  -- Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp + 3
  if mp >= 10 then m = mp - 9 end
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00', y, m, d,
    math.floor(rem / 3600), math.floor((rem % 3600) / 60), rem % 60, micros)
end

-- A reply's string, or nil for a missing value (Redis gives false; ioredis-mock a userdata).
local function str(x)
  if type(x) == 'string' then return x end
  return nil
end

-- The ids of `key` whose score is at most `now` (epoch seconds), lowest first, at most
-- `limit`. The upper bound is sent as the next whole second, exclusive, and the scores are
-- compared here: ioredis-mock drops a member whose fractional score equals the bound.
local function dueMembers(key, now, limit)
  local t = tonumber(now)
  local rows = redis.call('ZRANGEBYSCORE', key, '-inf', '(' .. string.format('%d', math.floor(t) + 1),
    'WITHSCORES', 'LIMIT', 0, limit)
  local ids = {}
  for i = 1, #rows, 2 do
    if tonumber(rows[i + 1]) > t then break end
    ids[#ids + 1] = rows[i]
  end
  return ids
end

local function jobKey(prefix, id)
  return prefix .. ':job:' .. id
end

-- Sets `name` in an HGETALL-style field/value list (as read, before a change to the hash).
local function setField(fields, name, value)
  for i = 1, #fields, 2 do
    if fields[i] == name then
      fields[i + 1] = value
      return
    end
  end
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end

local function wake(wakeKey, n)
  if n < 1 then return end
  if n > WAKE_CAP then n = WAKE_CAP end
  local tokens = {}
  for i = 1, n do tokens[i] = '1' end
  if redis.call('LPUSH', wakeKey, unpack(tokens)) > WAKE_CAP then
    redis.call('LTRIM', wakeKey, 0, WAKE_CAP - 1)
  end
end

-- ---- flow control (docs/redis-layout.md, "Flow control") ----
-- `{prefix}:limits` HASH: rate_max, rate_per (the queue's rate limit), group (every group's
--   limits as 'concurrency,max,per', each part '' when unset), hold_until (epoch seconds).
-- `{prefix}:limits:groups` HASH: group -> 'concurrency,max,per', the per-group overrides.
-- `{prefix}:starts` ZSET: the queue's starts in its window (member 'id:attempt', score epoch µs).
-- `{prefix}:groups` ZSET: the rotation, group -> turn number ('' stands for the jobs without
--   a group); the lowest turn is served next. `{prefix}:groups:turn` STRING: the counter.
-- `{prefix}:groups:wait` ZSET: groups at a limit -> when to look at them again (epoch s).
-- `{prefix}:groups:held` HASH: group -> hold end (epoch s), a handler's RateLimitError.
-- `{prefix}:groups:ready` STRING: how many jobs with a group are ready (for stats).
-- `{prefix}:group:{g}:ready` / `:prio:{n}` / `:priorities`: a group's waiting jobs, laid out
--   as the queue's own; `:active` ZSET id -> deadline of its reservations; `:starts` ZSET.

local GROUP = 'svc_jobs_group'

local function groupPrefix(prefix, group)
  return prefix .. ':group:' .. group
end

-- Epoch seconds (a string or number) as whole epoch microseconds (a float: ioredis-mock's
-- Lua has 32-bit integers).
local function usOf(t)
  -- Floats throughout (1000000.0, `%` not math.floor): ioredis-mock's Lua has 32-bit
  -- integers, which a whole-second time times 10^6 would overflow.
  local x = tonumber(t) * 1000000.0 + 0.5
  return x - (x % 1)
end

local function fmtUs(us)
  -- Whole seconds and the microseconds apart: ioredis-mock's Lua formats a number past
  -- 2^31 wrongly.
  local micros = us % 1000000
  return string.format('%.0f%06.0f', (us - micros) / 1000000, micros)
end

-- Whether a group (`gp`, its key prefix) has waiting jobs.
local function groupWaiting(gp)
  return redis.call('LLEN', gp .. ':ready') > 0 or redis.call('ZCARD', gp .. ':priorities') > 0
end

-- Puts `group` at the back of the rotation (`''`: the jobs without a group).
local function toBack(prefix, group)
  redis.call('ZADD', prefix .. ':groups', redis.call('INCR', prefix .. ':groups:turn'), group)
end

-- A group with a new waiting job joins the back of the rotation, unless it is in it or
-- waits for a time at a limit (it is looked at again then).
local function joinRotation(prefix, group)
  if str(redis.call('ZSCORE', prefix .. ':groups', group)) then return end
  if str(redis.call('ZSCORE', prefix .. ':groups:wait', group)) then return end
  toBack(prefix, group)
end

-- True when `id` is reserved now and, given an attempt number, by that attempt.
-- The attempt number is the fencing token: after a newer reservation it no longer matches.
-- A reservation whose deadline passed but which nobody requeued yet still counts, so a
-- slow worker's late ack saves a needless second run.
local function fenced(prefix, vtKey, id, attempts)
  if not str(redis.call('ZSCORE', vtKey, id)) then return false end
  if attempts ~= '' and redis.call('HGET', jobKey(prefix, id), 'attempts') ~= attempts then
    return false
  end
  return true
end

-- Ends the reservation of `id`: out of processing_vt (O(log n)) and, only when svc-infra
-- made it (no svc-jobs mark for the current attempt), out of the `processing` LIST, which
-- holds svc-infra's reservations alone. svc-jobs's own reservations never touch the list.
-- A job of a group leaves the group's running jobs, and the group, when it has jobs waiting,
-- takes its turn again (it may have been at its concurrency limit): blocked reservers wake.
local function endReservation(prefix, processingKey, vtKey, id)
  local key = jobKey(prefix, id)
  redis.call('ZREM', vtKey, id)
  local f = redis.call('HMGET', key, OURS, 'attempts', GROUP)
  local mark = str(f[1])
  if not mark or mark ~= str(f[2]) then
    redis.call('LREM', processingKey, 1, id)
  end
  if mark then redis.call('HDEL', key, OURS) end
  local group = str(f[3])
  if group then
    local gp = groupPrefix(prefix, group)
    redis.call('ZREM', gp .. ':active', id)
    -- A group in the rotation takes its turn anyway (the usual case: nothing more to do).
    -- Otherwise it leaves groups:wait, even without a ready job now: one that comes back
    -- ready later (a retry, a release) then joins the rotation at once instead of waiting
    -- for an old time.
    if not str(redis.call('ZSCORE', prefix .. ':groups', group)) then
      redis.call('ZREM', prefix .. ':groups:wait', group)
      if groupWaiting(gp) then
        toBack(prefix, group)
        if redis.call('LPUSH', prefix .. ':wake', '1') > WAKE_CAP then
          redis.call('LTRIM', prefix .. ':wake', 0, WAKE_CAP - 1)
        end
      end
    end
  end
end

-- ---- svc-jobs's own keys and fields (docs/redis-layout.md): svc-infra ignores them all ----
-- The scripts build these keys from the prefix, as they build job keys.

-- Job hash fields, each absent on a plain waiting job.
local PRIORITY = 'svc_jobs_priority'     -- only when not 0
local CREATED_AT = 'svc_jobs_created_at' -- the enqueue time, once available_at was overwritten
local STATE = 'svc_jobs_state'           -- 'completed', 'cancelled' or 'dead'
local FINISHED_AT = 'svc_jobs_finished_at'

-- Finished jobs trimmed per script call, at most, so trimming stays O(log n) per job.
local TRIM_BATCH = 16

-- Before a script overwrites available_at, it keeps the enqueue time (once).
local function keepCreatedAt(key, availableAt)
  if availableAt then redis.call('HSETNX', key, CREATED_AT, availableAt) end
end

-- Epoch seconds (a string) as whole epoch ms (rounded), the `at` of an event. A float
-- formatted with '%.0f', never an integer: epoch ms do not fit the 32-bit integers of
-- ioredis-mock's Lua.
local function msOf(now)
  return string.format('%.0f', tonumber(now) * 1000.0)
end

-- Appends one event to `{prefix}:events`, capped near `maxLen` ('' records none): `type`,
-- `job`, `name`, `at` (epoch ms), then the event's own fields (attempt, error, ...).
local function emit(prefix, maxLen, now, kind, id, name, ...)
  if maxLen == '' then return end
  redis.call('XADD', prefix .. ':events', 'MAXLEN', '~', maxLen, '*', 'type', kind, 'job', id,
    'name', name or '', 'at', msOf(now), ...)
end

-- Whether a priority (a hash field's value, nil when absent) is a level of its own.
local function isLevel(prio)
  return prio ~= nil and prio ~= '' and prio ~= '0'
end

-- The waiting list of priority `prio`: `ready` for 0, `{prefix}:prio:{n}` otherwise.
local function waitingList(prefix, readyKey, prio)
  if isLevel(prio) then return prefix .. ':prio:' .. prio end
  return readyKey
end

-- Puts `id` at the back (LPUSH) or, with `front`, the front (RPUSH) of its priority's list;
-- a non-zero level is registered in `{prefix}:priorities`. A job with a `group` goes to the
-- group's lists (the same layout under `{prefix}:group:{g}`), and the group joins the
-- rotation.
local function pushWaiting(prefix, readyKey, id, prio, front, group)
  local cmd = 'LPUSH'
  if front then cmd = 'RPUSH' end
  local p, rk = prefix, readyKey
  if group then
    p = groupPrefix(prefix, group)
    rk = p .. ':ready'
    redis.call('INCR', prefix .. ':groups:ready')
  end
  if isLevel(prio) then
    redis.call(cmd, p .. ':prio:' .. prio, id)
    redis.call('ZADD', p .. ':priorities', prio, prio)
  else
    redis.call(cmd, rk, id)
  end
  if group then joinRotation(prefix, group) end
end

-- Up to `count` ids from the front (right end) of a list.
local function popFront(key, count)
  local ids = redis.pcall('RPOP', key, count)
  if type(ids) == 'table' and ids.err then
    -- Redis < 6.2 has no RPOP count: one RPOP per job.
    ids = {}
    for _ = 1, count do
      local id = str(redis.call('RPOP', key))
      if not id then break end
      ids[#ids + 1] = id
    end
  end
  if type(ids) == 'table' then return ids end
  -- ioredis-mock answers with an array of its own (a userdata) that ipairs walks.
  local out = {}
  if type(ids) == 'userdata' then
    for _, id in ipairs(ids) do out[#out + 1] = id end
  end
  return out
end

-- Pops up to `count` waiting ids in reserve order: the highest positive priority first, then
-- `ready` (priority 0), then the negative priorities, highest first. A level whose list
-- empties leaves `{prefix}:priorities`. O(log levels) per level visited.
local function popWaiting(prefix, readyKey, count)
  local levelsKey = prefix .. ':priorities'
  local out = {}
  local function take(key)
    for _, id in ipairs(popFront(key, count - #out)) do out[#out + 1] = id end
  end
  local function fromLevels(top, bottom)
    while #out < count do
      local level = redis.call('ZREVRANGEBYSCORE', levelsKey, top, bottom, 'LIMIT', 0, 1)[1]
      if not level then return end
      local key = prefix .. ':prio:' .. level
      take(key)
      if redis.call('LLEN', key) == 0 then redis.call('ZREM', levelsKey, level) end
    end
  end
  local levels = redis.call('ZCARD', levelsKey) > 0
  if levels then fromLevels('+inf', '(0') end
  if #out < count then take(readyKey) end
  if levels and #out < count then fromLevels('(0', '-inf') end
  return out
end

-- Whether any job waits: in `ready` or in a priority level.
local function anyWaiting(prefix, readyKey)
  return redis.call('LLEN', readyKey) > 0 or redis.call('ZCARD', prefix .. ':priorities') > 0
end

-- Trims a retention index (`completed` or `cancelled`, id -> finished time): the oldest go
-- while more than `count` are kept or while they are older than `age` seconds ('inf': no
-- limit), their hashes deleted; at most TRIM_BATCH per call, so each finishing job pays
-- O(log n) for the trimming it causes.
local function trimFinished(prefix, indexKey, now, count, age)
  local budget = TRIM_BATCH
  local gone = {}
  if count ~= 'inf' then
    local over = redis.call('ZCARD', indexKey) - tonumber(count)
    if over > 0 then
      if over > budget then over = budget end
      gone = redis.call('ZRANGE', indexKey, 0, over - 1)
      budget = budget - #gone
    end
  end
  if age ~= 'inf' and budget > 0 then
    local old = dueMembers(indexKey, tonumber(now) - tonumber(age), budget + #gone)
    local seen = {}
    for _, id in ipairs(gone) do seen[id] = true end
    for _, id in ipairs(old) do
      if not seen[id] then gone[#gone + 1] = id end
    end
  end
  if #gone == 0 then return end
  redis.call('ZREM', indexKey, unpack(gone))
  for _, id in ipairs(gone) do redis.call('DEL', jobKey(prefix, id)) end
end

-- Marks a job finished (`completed` or `cancelled`) at `now`: with retention (`count` not
-- ''), keeps its hash in the retention index and trims it; without, deletes the hash.
local function finish(prefix, key, id, state, now, count, age, extra)
  -- Without retention, or for a hash deleted behind the queue's back: nothing to keep.
  if count == '' or redis.call('EXISTS', key) == 0 then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, STATE, state, FINISHED_AT, now, unpack(extra))
  redis.call('HDEL', key, 'visible_at')
  local indexKey = prefix .. ':' .. state
  redis.call('ZADD', indexKey, now, id)
  trimFinished(prefix, indexKey, now, count, age)
end

-- Expired reservations (svc-jobs's or svc-infra's) count as a failed attempt: back to the
-- back of their priority's list, or to the DLQ after the last attempt, with last_error saying
-- why. Oldest deadline first, at most `limit`. svc-infra's reserve applies the same limit when
-- it takes such a job (attempts + 1 > max_attempts goes to the DLQ), so neither side runs it
-- again. Each emits `expired`, and `dead` when it goes to the DLQ.
local function requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, nowIso,
                              expiredPre, expiredPost, limit, maxLen)
  local ids = dueMembers(vtKey, now, limit)
  for _, id in ipairs(ids) do
    local key = jobKey(prefix, id)
    endReservation(prefix, processingKey, vtKey, id)
    if redis.call('EXISTS', key) == 1 then
      local f = redis.call('HMGET', key, 'attempts', 'max_attempts', 'name', PRIORITY,
        'available_at', STATE, GROUP)
      local attempts = str(f[1]) or '0'
      local message = expiredPre .. attempts .. expiredPost
      if str(f[6]) then
        -- Finished while reserved (a cancelled reservation svc-infra pushed back): leave it.
      else
        redis.call('HSET', key, 'last_error', message)
        redis.call('HDEL', key, 'visible_at')
        emit(prefix, maxLen, now, 'expired', id, str(f[3]), 'attempt', attempts, 'error', message)
        if (tonumber(attempts) or 0) >= (tonumber(str(f[2]) or DEFAULT_MAX_ATTEMPTS) or 1) then
          redis.call('HSET', key, STATE, 'dead')
          redis.call('LPUSH', dlqKey, id)
          emit(prefix, maxLen, now, 'dead', id, str(f[3]), 'attempt', attempts, 'error', message)
        else
          keepCreatedAt(key, str(f[5]))
          redis.call('HSET', key, 'available_at', nowIso)
          pushWaiting(prefix, readyKey, id, str(f[4]), false, str(f[7]))
        end
      end
    end
  end
  return #ids
end

-- Due delayed jobs join the back of their priority's list in due order, behind jobs already
-- waiting there.
local function promoteDelayed(prefix, readyKey, delayedKey, now, limit)
  local ids = dueMembers(delayedKey, now, limit)
  if #ids > 0 then
    redis.call('ZREM', delayedKey, unpack(ids))
    local plain = {}
    for _, id in ipairs(ids) do
      local f = redis.call('HMGET', jobKey(prefix, id), PRIORITY, GROUP)
      local prio, group = str(f[1]), str(f[2])
      if prio or group then
        pushWaiting(prefix, readyKey, id, prio, false, group)
      else
        plain[#plain + 1] = id
      end
    end
    if #plain > 0 then redis.call('LPUSH', readyKey, unpack(plain)) end
  end
  return #ids
end

-- The earliest time (epoch seconds) something becomes reservable: a delayed job's due time
-- or a reservation's deadline. '' when there is none.
local function nextDue(delayedKey, vtKey)
  local d = redis.call('ZRANGE', delayedKey, 0, 0, 'WITHSCORES')
  local v = redis.call('ZRANGE', vtKey, 0, 0, 'WITHSCORES')
  local best = ''
  if d[2] then best = d[2] end
  if v[2] and (best == '' or tonumber(v[2]) < tonumber(best)) then best = v[2] end
  return best
end

-- ioredis-mock (fengari) returns only tables built by a constructor as arrays; real Redis
-- takes any. Callers keep tables small (at most a few thousand entries) for unpack.
local function reply(t)
  return { unpack(t) }
end
