-- Helpers shared by the transition scripts (inlined by the loader at `-- @include "common"`).
-- Times are epoch milliseconds from the queue's clock, passed in as strings and written
-- back unchanged (or with %.17g), so JavaScript reads the exact same number.

local unpack = unpack or table.unpack

-- Wake-up tokens for blocked reservers are few: a burst of enqueues must not pile up
-- thousands of spurious wake-ups for workers that were busy at the time.
local WAKE_CAP = 16

local function fmt(n)
  return string.format('%.17g', n)
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
  if not redis.call('ZSCORE', vtKey, id) then return false end
  if attempts ~= '' and redis.call('HGET', jobKey(prefix, id), 'attempts') ~= attempts then
    return false
  end
  return true
end

-- Expired reservations count as a failed attempt: back to ready, or to the DLQ after the
-- last attempt, with last_error saying why. Oldest deadline first, at most `limit`.
local function requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, expiredPre,
                              expiredPost, limit)
  local ids = redis.call('ZRANGEBYSCORE', vtKey, '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local key = jobKey(prefix, id)
    redis.call('ZREM', vtKey, id)
    redis.call('LREM', processingKey, -1, id)
    if redis.call('EXISTS', key) == 1 then
      local f = redis.call('HMGET', key, 'attempts', 'max_attempts')
      redis.call('HSET', key, 'last_error', expiredPre .. f[1] .. expiredPost)
      if tonumber(f[1]) >= tonumber(f[2]) then
        redis.call('RPUSH', dlqKey, id)
      else
        redis.call('HSET', key, 'available_at', now)
        redis.call('LPUSH', readyKey, id)
      end
    end
  end
  return #ids
end

-- Due delayed jobs join the back of ready in due order, behind jobs already ready.
local function promoteDelayed(readyKey, delayedKey, now, limit)
  local ids = redis.call('ZRANGEBYSCORE', delayedKey, '-inf', now, 'LIMIT', 0, limit)
  if #ids > 0 then
    redis.call('ZREM', delayedKey, unpack(ids))
    redis.call('LPUSH', readyKey, unpack(ids))
  end
  return #ids
end

-- The earliest time something becomes reservable: a delayed job's due time or a
-- reservation's deadline. '' when there is none.
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
