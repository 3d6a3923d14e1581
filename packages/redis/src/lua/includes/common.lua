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
local function endReservation(prefix, processingKey, vtKey, id)
  local key = jobKey(prefix, id)
  redis.call('ZREM', vtKey, id)
  local f = redis.call('HMGET', key, OURS, 'attempts')
  local mark = str(f[1])
  if not mark or mark ~= str(f[2]) then
    redis.call('LREM', processingKey, 1, id)
  end
  if mark then redis.call('HDEL', key, OURS) end
end

-- Expired reservations (svc-jobs's or svc-infra's) count as a failed attempt: back to the
-- back of ready, or to the DLQ after the last attempt, with last_error saying why. Oldest
-- deadline first, at most `limit`. svc-infra's reserve applies the same limit when it takes
-- such a job (attempts + 1 > max_attempts goes to the DLQ), so neither side runs it again.
local function requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, nowIso,
                              expiredPre, expiredPost, limit)
  local ids = dueMembers(vtKey, now, limit)
  for _, id in ipairs(ids) do
    local key = jobKey(prefix, id)
    endReservation(prefix, processingKey, vtKey, id)
    if redis.call('EXISTS', key) == 1 then
      local f = redis.call('HMGET', key, 'attempts', 'max_attempts')
      local attempts = str(f[1]) or '0'
      redis.call('HSET', key, 'last_error', expiredPre .. attempts .. expiredPost)
      redis.call('HDEL', key, 'visible_at')
      if (tonumber(attempts) or 0) >= (tonumber(str(f[2]) or DEFAULT_MAX_ATTEMPTS) or 1) then
        redis.call('LPUSH', dlqKey, id)
      else
        redis.call('HSET', key, 'available_at', nowIso)
        redis.call('LPUSH', readyKey, id)
      end
    end
  end
  return #ids
end

-- Due delayed jobs join the back of ready in due order, behind jobs already ready.
local function promoteDelayed(readyKey, delayedKey, now, limit)
  local ids = dueMembers(delayedKey, now, limit)
  if #ids > 0 then
    redis.call('ZREM', delayedKey, unpack(ids))
    redis.call('LPUSH', readyKey, unpack(ids))
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
