--[[
  Reserves up to `count` due jobs: requeues expired reservations, promotes due delayed
  jobs (a bounded batch of each), then pops from the front of the waiting lists, counts the attempt
  and hides each job until its visibility deadline. Every step is O(log n) per job.

  Input:
    KEYS[1] ready          LIST  (enqueue LPUSHes, reserve RPOPs: the front is the right end)
    KEYS[2] processing     LIST  (svc-infra's reservations; svc-jobs's are in processing_vt only)
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST  (LPUSH on death: the oldest at the right end)
    KEYS[6] wake           LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch seconds)
    ARGV[3] now as ISO-8601 UTC
    ARGV[4] visibility deadline (epoch seconds)
    ARGV[5] count: jobs to reserve at most
    ARGV[6] housekeeping batch size
    ARGV[7], ARGV[8] last_error of an expired reservation, before and after the attempt number
    ARGV[9] the event stream's cap (`reserved`, `expired`, `dead` events), '' for no events
    ARGV[10] '1' when the times are the system clock's: each rate window then counts a start
             for perSeconds plus min(0.1, perSeconds / 10) seconds (docs/contract.md, "Flow
             control"); '0': exact windows

  Also reads `{prefix}:paused` (nothing is reserved while it exists; housekeeping still runs)
  and pops the priority levels `{prefix}:priorities` / `{prefix}:prio:{n}` around `ready`:
  the highest positive priority first, then `ready` (priority 0), then the negative ones.

  Output: { nextDue, job1, job2, ... } where each job is its hash as a field/value list
    (HGETALL, attempts already counted) and nextDue (epoch seconds) is set only when no job
    was reserved: when the next delayed job or reservation falls due, '' when nothing is
    pending.
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey, wakeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, now, nowIso, deadline = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit = tonumber(ARGV[6])
local maxLen = ARGV[9]
local realTime = ARGV[10] == '1'

-- A rate window in µs, with its real-time guard.
local function windowUs(per)
  local p = tonumber(per)
  if realTime then p = p + math.min(0.1, p / 10) end
  return usOf(p)
end

requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, nowIso, ARGV[7], ARGV[8],
  limit, maxLen)
promoteDelayed(prefix, readyKey, delayedKey, now, limit)

-- Workers that wait for a rate window (or a group at a limit) look again this long
-- (seconds) after it frees, so that the handlers of two windows' starts, which begin a
-- little after their reserve, never seem closer than the window to someone timing them in
-- the handlers. A reserve at the exact time is allowed; only the sleep is longer.
local WINDOW_WAKE_MARGIN = 0.01

-- The earliest time something may be reserved: a delayed job, a reservation's deadline, a
-- group's wait at a limit.
local function wakeAt(extra)
  local best = nextDue(delayedKey, vtKey)
  local w = redis.call('ZRANGE', prefix .. ':groups:wait', 0, 0, 'WITHSCORES')[2]
  if w then
    w = tonumber(w) + WINDOW_WAKE_MARGIN
    if best == '' or w < tonumber(best) then best = fmtSec(w) end
  end
  if extra and (best == '' or extra < tonumber(best)) then best = fmtSec(extra) end
  return best
end

local out = { '' }
if redis.call('EXISTS', prefix .. ':paused') == 1 then
  out[1] = wakeAt(nil)
  return reply(out)
end

-- Flow control (docs/contract.md, "Flow control"): a hold, then the queue's rate limit.
local nowS, nowUs = tonumber(now), usOf(now)
local budget = tonumber(ARGV[5])
local lim = redis.call('HMGET', prefix .. ':limits', 'rate_max', 'rate_per', 'group', 'hold_until')
local hold = tonumber(str(lim[4]) or '')
if hold and hold > nowS then
  out[1] = fmtSec(hold)
  return reply(out)
end
local rateMax = tonumber(str(lim[1]) or '')
local startsKey = prefix .. ':starts'
if rateMax then
  local perUs = windowUs(lim[2])
  redis.call('ZREMRANGEBYSCORE', startsKey, '-inf', fmtUs(nowUs - perUs))
  local used = redis.call('ZCARD', startsKey)
  if used >= rateMax then
    local oldest = redis.call('ZRANGE', startsKey, 0, 0, 'WITHSCORES')[2]
    out[1] = wakeAt((tonumber(oldest) + perUs) / 1000000 + WINDOW_WAKE_MARGIN)
    return reply(out)
  end
  if rateMax - used < budget then budget = rateMax - used end
end

-- Whether a start may need a member in a group's window: only when some group limits exist.
-- Read once per call: whether any group has an override, or a hold, to look up.
local HAS_OVERRIDES = redis.call('EXISTS', prefix .. ':limits:groups') == 1
local HAS_HOLDS = redis.call('EXISTS', prefix .. ':groups:held') == 1
local defaultSpec = str(lim[3])
-- A group rate in the default limits ('c,max,per' with a max), or in some override.
local GROUP_RATES = HAS_OVERRIDES
  or (defaultSpec ~= nil and string.match(defaultSpec, '^[^,]*,[^,]+,') ~= nil)

-- Takes a popped id: counts the attempt and hides it until the deadline; returns its fields
-- (HGETALL), or nil when it must not run (see below).
local function take(id)
  local key = jobKey(prefix, id)
  local f = redis.call('HGETALL', key)
  -- An id whose hash is gone (acked, or deleted by hand) is dropped rather than
  -- resurrected; so is a second copy of an id that is reserved or delayed already
  -- (svc-infra's recovery is not atomic and can push an id twice), and a finished job
  -- (a cancelled reservation that svc-infra's fail sent back).
  if #f == 0 or str(redis.call('ZSCORE', vtKey, id))
    or str(redis.call('ZSCORE', delayedKey, id)) then
    return nil
  end
  local h = {}
  for i = 1, #f, 2 do h[f[i]] = f[i + 1] end
  local attempts = tonumber(h.attempts or '0') or 0
  if h[STATE] then return nil end
  if attempts >= (tonumber(h.max_attempts or DEFAULT_MAX_ATTEMPTS) or 1) then
    -- svc-infra's rule: a job whose attempts are used up (its last reservation expired
    -- and was recovered into ready) goes to the DLQ instead of running again.
    local lastError = h.last_error
    if not lastError or lastError == '' then
      lastError = ARGV[7] .. string.format('%d', attempts) .. ARGV[8]
      redis.call('HSET', key, 'last_error', lastError)
    end
    redis.call('HSET', key, STATE, 'dead')
    redis.call('LPUSH', dlqKey, id)
    emit(prefix, maxLen, now, 'dead', id, h.name, 'attempt', string.format('%d', attempts),
      'error', lastError)
    return nil
  end
  local n = string.format('%d', attempts + 1)
  redis.call('HSET', key, 'attempts', n, OURS, n)
  redis.call('ZADD', vtKey, deadline, id)
  setField(f, 'attempts', n)
  setField(f, OURS, n)
  emit(prefix, maxLen, now, 'reserved', id, h.name, 'attempt', n)
  -- A start's member in the windows: unique (a released job starts again with the same
  -- attempt number).
  local startId
  if rateMax or GROUP_RATES then
    startId = id .. ':' .. string.format('%d', redis.call('INCR', prefix .. ':limits:seq'))
  end
  if rateMax then redis.call('ZADD', startsKey, fmtUs(nowUs), startId) end
  local group = h[GROUP]
  if group then
    local gp = groupPrefix(prefix, group)
    redis.call('ZADD', gp .. ':active', deadline, id)
  end
  return f, startId
end

-- A group's limits: its override, else every group's ('concurrency,max,per'), parsed once
-- per call.
local groupDefault = false
local function limitsOf(group)
  local spec
  if HAS_OVERRIDES then spec = str(redis.call('HGET', prefix .. ':limits:groups', group)) end
  if not spec then
    if groupDefault == false then
      groupDefault = nil
      local d = str(lim[3])
      if d then
        local c, m, per = string.match(d, '^([^,]*),([^,]*),([^,]*)$')
        groupDefault = { c = tonumber(c), max = tonumber(m), per = tonumber(per) }
      end
    end
    return groupDefault
  end
  local c, m, per = string.match(spec, '^([^,]*),([^,]*),([^,]*)$')
  return { c = tonumber(c), max = tonumber(m), per = tonumber(per) }
end

-- When a group at a limit (or held) may run again (epoch seconds), nil when it may now.
local function blockedUntil(group, gp, limits)
  local untilS
  local held
  if HAS_HOLDS then held = tonumber(str(redis.call('HGET', prefix .. ':groups:held', group)) or '') end
  if held then
    if held > nowS then untilS = held else redis.call('HDEL', prefix .. ':groups:held', group) end
  end
  if not limits then return untilS end
  if limits.c then
    local activeKey = gp .. ':active'
    local running = redis.call('ZCARD', activeKey)
    if running >= limits.c then
      -- A reservation that ended without svc-jobs seeing it (svc-infra acked a job its
      -- recovery moved) would hold a slot forever: the oldest one past its deadline and no
      -- longer reserved leaves.
      local first = redis.call('ZRANGE', activeKey, 0, 0, 'WITHSCORES')
      if first[1] and tonumber(first[2]) <= nowS
        and not str(redis.call('ZSCORE', vtKey, first[1])) then
        redis.call('ZREM', activeKey, first[1])
        running = running - 1
        first = redis.call('ZRANGE', activeKey, 0, 0, 'WITHSCORES')
      end
      if running >= limits.c then
        -- Until one of its jobs ends (which brings the group back at once), at the latest
        -- when the first of their reservations runs out.
        local t = tonumber(first[2])
        if t <= nowS then t = nowS + 0.01 end
        if not untilS or t > untilS then untilS = t end
      end
    end
  end
  if limits.max then
    local perUs = windowUs(limits.per)
    local gStarts = gp .. ':starts'
    redis.call('ZREMRANGEBYSCORE', gStarts, '-inf', fmtUs(nowUs - perUs))
    if redis.call('ZCARD', gStarts) >= limits.max then
      local oldest = redis.call('ZRANGE', gStarts, 0, 0, 'WITHSCORES')[2]
      local t = (tonumber(oldest) + perUs) / 1000000
      if not untilS or t > untilS then untilS = t end
    end
  end
  return untilS
end

local ringKey, waitKey = prefix .. ':groups', prefix .. ':groups:wait'
-- Groups whose wait is over take their turn again, in (time, name) order.
local due = dueMembers(waitKey, now, limit)
if #due > 0 then
  redis.call('ZREM', waitKey, unpack(due))
  for _, group in ipairs(due) do
    if groupWaiting(groupPrefix(prefix, group)) then toBack(prefix, group) end
  end
end

if redis.call('ZCARD', ringKey) == 0 then
  -- No group waits its turn: the queue's own lists, in priority order.
  while #out - 1 < budget do
    local ids = popWaiting(prefix, readyKey, budget - (#out - 1))
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      local f = take(id)
      if f then out[#out + 1] = f end
    end
  end
else
  -- The rotation (docs/contract.md, "Groups"): the front serves one job and goes to the
  -- back; a group at a limit waits in groups:wait; the jobs without a group ('') take their
  -- turn as one more participant. Done a pass at a time: the next `budget` participants are
  -- read and taken out at once, each serves at most one job, and those that still have jobs
  -- go back in the order they were served, which is what one turn at a time gives.
  local popped = 0
  while #out - 1 < budget do
    if anyWaiting(prefix, readyKey) then joinRotation(prefix, '') end
    local pass = redis.call('ZRANGE', ringKey, 0, budget - (#out - 1) - 1)
    if #pass == 0 then break end
    redis.call('ZREM', ringKey, unpack(pass))
    local back = {}
    for _, group in ipairs(pass) do
      if group == '' then
        local id = popWaiting(prefix, readyKey, 1)[1]
        if id then
          if anyWaiting(prefix, readyKey) then back[#back + 1] = '' end
          local f = take(id)
          if f then out[#out + 1] = f end
        end
      else
        local gp = groupPrefix(prefix, group)
        local limits = limitsOf(group)
        local untilS = blockedUntil(group, gp, limits)
        if untilS then
          redis.call('ZADD', waitKey, fmtSec(untilS), group)
        else
          -- One job from the front of the group: its `ready` list unless it has priority
          -- levels of its own.
          local rk = gp .. ':ready'
          local id, more
          if redis.call('ZCARD', gp .. ':priorities') == 0 then
            id = str(redis.call('RPOP', rk))
            more = id and redis.call('LLEN', rk) > 0
          else
            id = popWaiting(gp, rk, 1)[1]
            more = id and groupWaiting(gp)
          end
          if id then
            popped = popped + 1
            if more then back[#back + 1] = group end
            local f, startId = take(id)
            if f then
              out[#out + 1] = f
              if limits and limits.max then
                redis.call('ZADD', gp .. ':starts', fmtUs(nowUs), startId)
                redis.call('PEXPIRE', gp .. ':starts', math.ceil(limits.per * 1000) + 1000)
              end
            end
          end
        end
      end
    end
    if #back > 0 then
      local last = redis.call('INCRBY', prefix .. ':groups:turn', #back)
      local args = {}
      for i, group in ipairs(back) do
        args[#args + 1] = last - #back + i
        args[#args + 1] = group
      end
      redis.call('ZADD', ringKey, unpack(args))
    end
  end
  if popped > 0 then redis.call('DECRBY', prefix .. ':groups:ready', popped) end
end

if #out == 1 then
  out[1] = wakeAt(nil)
elseif redis.call('LLEN', wakeKey) == 0
  and (anyWaiting(prefix, readyKey) or redis.call('ZCARD', ringKey) > 0) then
  -- Pass the wake-up on: other blocked workers may be waiting for the jobs left.
  redis.call('LPUSH', wakeKey, '1')
end
return reply(out)
