--[[
  Reads jobs without changing anything: one job with its state (getJob), or one page of
  the jobs in a state (listJobs), or the names of a batch of them (countByName). Every call
  is bounded: it looks at no more than `budget` ids, and the processing listing sorts at
  most 2,500 reservation ids per call. docs/redis-layout.md, "Seeing jobs".

  A job's state: `svc_jobs_state` (completed, cancelled, dead) when set; else processing
  when it is in processing_vt, or it has `visible_at` and is in the `processing` LIST
  (svc-infra's reservation; svc-infra leaves a stale `visible_at` on jobs it failed or
  dead-lettered); else delayed when it is in `delayed`; else dead when it is in the DLQ
  (svc-infra marks nothing); else ready. A listing checks each id the same way, except that
  a ready id is not searched for in the DLQ, an id of the reservations needs only no mark,
  and a kept finished id needs its mark.

  The ready listing reads the jobs without a group first (their run order: priority levels
  from the highest, `ready` as 0, then the negative ones; each list from its right end), then
  each group's in the same order, the groups by name (bytes). A job of a group waits in the
  group's lists, `{prefix}:group:{g}:ready`, `:prio:{n}` and `:priorities`, built from the
  prefix; the groups are the members of `{prefix}:groups` (but '') and `{prefix}:groups:wait`,
  read on each call that gets to them and taken in order from a heap (O(groups) a call).

  Input:
    KEYS[1] ready          LIST  (priority 0; the next to run at the right end)
    KEYS[2] processing     LIST  (svc-infra's reservations)
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST  (LPUSH on death: the oldest at the right end)
    KEYS[6] priorities     ZSET  (the non-zero priorities in use, member n, score n)
    KEYS[7] completed      ZSET  (id -> finished time, epoch seconds)
    KEYS[8] cancelled      ZSET  (id -> finished time, epoch seconds)

    ARGV[1] key prefix
    ARGV[2] mode: 'job', 'jobs', 'names' or 'ids'
    mode 'job':
      ARGV[3] id
    mode 'ids' (the processing listing's ids, a chunk of processing_vt at a time):
      ARGV[3] floor id ('' for none); ARGV[4] ids wanted; ARGV[5] chunk size
      ARGV[6] '1' when ARGV[7], ARGV[8] (score, member) say where the last chunk ended
    modes 'jobs' and 'names':
      ARGV[3] state: ready, delayed, processing, dead, completed or cancelled
      ARGV[4] name, '' for every name
      ARGV[5] limit (jobs or names to return, > 0)
      ARGV[6] budget (ids to look at, at most, >= limit)
      ARGV[7] '1' when a cursor follows, '' for the first page
      ARGV[8], ARGV[9] the cursor: ready: the priority and the group ('' for the jobs
        without a group); dead: '', '';
        delayed, completed, cancelled, and processing in mode 'names': the score and the
        member; processing in mode 'jobs': the id, then '' (read and sort every reservation
        id, at most 2,500), 'complete' or 'partial' (the ids follow)
      ARGV[10..] ready and dead: up to 4 ids looked at last (the very last one last),
        each followed by its fingerprint (`attempts|available_at`, '-' without a hash);
        processing: the next ids, ascending: every one above the floor ('complete') or the
        smallest ones ('partial')

  Output:
    mode 'job': {} when the job's hash is gone, else { state, fields } (HGETALL)
    modes 'jobs' and 'names': { more, a, b, { id, fingerprint, ... }, { entry, ... } }: more
      is 1 when another page may follow (a, b and the ids are its cursor, as in ARGV[8..]),
      else 0, or 2 when there are too many reservations to sort in one call; an entry is
      the job's HGETALL ('jobs') or its name ('names')
    mode 'ids': { more, last score, last member, { smallest ids above the floor }, { how
      many ids above the floor the chunk had } }
]]

local readyKey, processingKey, vtKey, delayedKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prioritiesKey, completedKey, cancelledKey = KEYS[6], KEYS[7], KEYS[8]
local prefix, mode = ARGV[1], ARGV[2]
local unpack = unpack or table.unpack

-- Ids looked at in one LRANGE/ZRANGE; ids remembered in a list cursor.
local CHUNK = 100
local KEEP = 4

-- A reply's string, or nil for a missing value (Redis gives false; ioredis-mock a userdata).
local function str(x)
  if type(x) == 'string' then return x end
  return nil
end

local function jobKey(id)
  return prefix .. ':job:' .. id
end

local function lpos(key, id)
  local at = redis.call('LPOS', key, id, 'RANK', -1)
  if type(at) == 'number' then return at end
  return nil
end

-- Byte order, as Redis orders the members of one score (Lua's `<` on strings follows the
-- server's locale).
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- What a listing reads of each id, and the fields that tell its state.
local FIELDS = { 'name', 'svc_jobs_state', 'visible_at', 'attempts', 'available_at' }

local function fieldsOf(id)
  return redis.call('HMGET', jobKey(id), unpack(FIELDS))
end

local function fingerprint(f)
  return (str(f[4]) or '') .. '|' .. (str(f[5]) or '')
end

-- The state of `id` (fields from fieldsOf), or nil when its hash is gone. `source` is the
-- state the id was found in ('' for getJob): a ready or dead id is not searched for in the
-- DLQ, and an id found nowhere else is in its source state.
local function stateOf(id, f, source)
  if not str(f[1]) then return nil end
  local mark = str(f[2])
  -- A cancelled job is kept only while it is in the cancelled index: without keepCancelled,
  -- a cancelled running job's hash stays a while (marked, with a TTL) so its worker learns
  -- of the cancel, but the job is gone for everyone else (docs/contract.md).
  if mark == 'cancelled' and not str(redis.call('ZSCORE', cancelledKey, id)) then return nil end
  if mark == 'completed' or mark == 'cancelled' or mark == 'dead' then return mark end
  -- Kept finished jobs carry their mark; a reservation id is processing until it ends.
  if source == 'completed' or source == 'cancelled' then return 'unknown' end
  if source == 'processing' then return 'processing' end
  if str(redis.call('ZSCORE', vtKey, id)) then return 'processing' end
  if str(f[3]) and lpos(processingKey, id) then return 'processing' end
  if str(redis.call('ZSCORE', delayedKey, id)) then return 'delayed' end
  if source ~= '' then return source end
  if lpos(dlqKey, id) then return 'dead' end
  return 'ready'
end

if mode == 'job' then
  local id = ARGV[3]
  local state = stateOf(id, fieldsOf(id), '')
  if not state then return {} end
  return { state, redis.call('HGETALL', jobKey(id)) }
end

local state, name, limit, budget = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local hasCursor = ARGV[7] == '1'
local wantJobs = mode == 'jobs'

local entries = {}
local matched, scanned = 0, 0
-- Looks at one id; returns true once the page is full and another match was found.
local function visit(id, f, source)
  scanned = scanned + 1
  if stateOf(id, f, source) ~= state then return false end
  if name ~= '' and str(f[1]) ~= name then return false end
  matched = matched + 1
  if matched > limit then return true end
  if wantJobs then
    entries[#entries + 1] = redis.call('HGETALL', jobKey(id))
  else
    entries[#entries + 1] = str(f[1])
  end
  return false
end

local function done(more, a, b, kept)
  local flat = {}
  for _, k in ipairs(kept or {}) do
    flat[#flat + 1] = k[1]
    flat[#flat + 1] = k[2]
  end
  -- ioredis-mock (fengari) returns only tables built by a constructor as arrays.
  if more then return { 1, a, b, { unpack(flat) }, { unpack(entries) } } end
  return { 0, '', '', {}, { unpack(entries) } }
end

-- ---- lists (ready across the priority lists and the groups, dead): read from the right end
-- leftwards.

-- Where waiting jobs are: the jobs without a group (group '') in the queue's own lists, and
-- each group's in the same layout under `{prefix}:group:{g}` (`ready`, `prio:{n}`,
-- `priorities`).
local function segment(group)
  if group == '' then
    return { group = '', prefix = prefix, ready = readyKey, levels = prioritiesKey }
  end
  local gp = prefix .. ':group:' .. group
  return { group = group, prefix = gp, ready = gp .. ':ready', levels = gp .. ':priorities' }
end

local function levelKey(seg, level)
  if level == '0' then return seg.ready end
  return seg.prefix .. ':prio:' .. level
end

-- The priority after `level` in run order (highest first, 0 being `ready`), or nil.
local function nextLevel(seg, level)
  local n = tonumber(level)
  local below = redis.call('ZREVRANGEBYSCORE', seg.levels, '(' .. level, '-inf', 'LIMIT', 0, 1)
  local found = below[1]
  if n > 0 and (not found or tonumber(found) < 0) then return '0' end
  return found
end

local function firstLevel(seg)
  local top = redis.call('ZREVRANGE', seg.levels, 0, 0)[1]
  if top and tonumber(top) > 0 then return top end
  return '0'
end

-- A name as numbers that compare as its bytes do (ordering many names with bytesLess is
-- slow): 6 bytes to a number, each byte b as the digit b + 1 in base 257, 0 padding the last
-- number; exact in a double (257^6 < 2^53), and floats on ioredis-mock's 32-bit Lua.
local function byteKey(s)
  local key = {}
  for i = 1, #s, 6 do
    local a, b, c, d, e, f = string.byte(s, i, i + 5)
    key[#key + 1] = ((((((a or -1) + 1.0) * 257.0 + ((b or -1) + 1.0)) * 257.0
      + ((c or -1) + 1.0)) * 257.0 + ((d or -1) + 1.0)) * 257.0 + ((e or -1) + 1.0)) * 257.0
      + ((f or -1) + 1.0)
  end
  return key
end

local function keyLess(a, b)
  for i = 1, math.min(#a, #b) do
    if a[i] ~= b[i] then return a[i] < b[i] end
  end
  return #a < #b
end

-- The groups that may have waiting jobs (those in the rotation `{prefix}:groups`, without its
-- '' for the jobs without a group, or waiting at a limit in `{prefix}:groups:wait`) whose
-- name comes after `group` ('': all of them), by name bytes: a function that returns the
-- next one (nil at the end). A heap: O(groups) to build, O(log groups) per group taken.
local function groupsAfter(group)
  local seen, rows = {}, {}
  local from = group ~= '' and byteKey(group)
  for _, key in ipairs({ prefix .. ':groups', prefix .. ':groups:wait' }) do
    for _, g in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if g ~= '' and not seen[g] then
        seen[g] = true
        local k = byteKey(g)
        if not from or keyLess(from, k) then rows[#rows + 1] = { k, g } end
      end
    end
  end
  local n = #rows
  local function down(i)
    while true do
      local least, l = i, 2 * i
      if l <= n and keyLess(rows[l][1], rows[least][1]) then least = l end
      if l < n and keyLess(rows[l + 1][1], rows[least][1]) then least = l + 1 end
      if least == i then return end
      rows[i], rows[least] = rows[least], rows[i]
      i = least
    end
  end
  for i = math.floor(n / 2), 1, -1 do down(i) end
  return function()
    if n == 0 then return nil end
    local top = rows[1][2]
    rows[1] = rows[n]
    rows[n] = nil
    n = n - 1
    if n > 1 then down(1) end
    return top
  end
end

-- Where to go on in `key` after the remembered ids (`kept`, the last one looked at last):
-- the index left of the newest one still in its place, with the fingerprint it had (an id
-- without a hash has '-'). One that is gone, cancelled, or out of the list says nothing:
-- the one before it is tried. One whose fingerprint changed ran since (reserved, back with
-- another attempt or as new): in a ready list everything to its right ran too (reserves pop
-- the right end), so nil: go on from the right end. In the DLQ jobs also leave one by one
-- (requeue), so the one before it is tried there.
local function resume(key, kept, source)
  for i = #kept, 1, -1 do
    local id, was = kept[i][1], kept[i][2]
    local f = fieldsOf(id)
    local now = str(f[1]) and fingerprint(f) or '-'
    if str(f[2]) ~= 'cancelled' then
      if now == was then
        local at = lpos(key, id)
        if at then return at - 1 end
      elseif now ~= '-' and source == 'ready' then
        return nil
      end
    end
  end
  return nil
end

-- The ready listing walks the jobs without a group, then each group by name; in each, the
-- priority levels in run order. Its cursor: the level and the group ('' for none) walked,
-- with the ids looked at last.
local function listPage(source)
  local level, group = '0', ''
  local key = dlqKey
  local kept = {}
  local seg, groups
  if source == 'ready' then
    if hasCursor then group = ARGV[9] end
    seg = segment(group)
    level = hasCursor and ARGV[8] or firstLevel(seg)
    key = levelKey(seg, level)
  end
  local pos
  if hasCursor then
    for i = 10, #ARGV - 1, 2 do kept[#kept + 1] = { ARGV[i], ARGV[i + 1] } end
    pos = resume(key, kept, source)
  end
  if not pos then pos = redis.call('LLEN', key) - 1 end
  local snapshot
  while true do
    if pos < 0 then
      if source ~= 'ready' then return done(false) end
      local after = nextLevel(seg, level)
      if not after then
        -- This group (or the jobs without one) is done: the next group by name.
        groups = groups or groupsAfter(group)
        local g = groups()
        if not g then return done(false) end
        group = g
        seg = segment(group)
        after = firstLevel(seg)
      end
      level, key, kept = after, levelKey(seg, after), {}
      pos = redis.call('LLEN', key) - 1
    else
      if scanned >= budget then return done(true, level, group, kept) end
      local from = math.max(0, pos - math.min(CHUNK, budget - scanned) + 1)
      local ids = redis.call('LRANGE', key, from, pos)
      for i = #ids, 1, -1 do
        local id = ids[i]
        local f = fieldsOf(id)
        pos = pos - 1
        if visit(id, f, source) then
          return done(true, snapshot[1], snapshot[2], snapshot[3])
        end
        kept[#kept + 1] = { id, str(f[1]) and fingerprint(f) or '-' }
        if #kept > KEEP then table.remove(kept, 1) end
        if matched == limit and not snapshot then
          local copy = {}
          for j, k in ipairs(kept) do copy[j] = k end
          snapshot = { level, group, copy }
        end
        if scanned >= budget then break end
      end
    end
  end
end

-- ---- sorted sets (delayed by due time; completed, cancelled newest first).

local function zrow(key, desc, rank)
  local cmd = desc and 'ZREVRANGE' or 'ZRANGE'
  local row = redis.call(cmd, key, rank, rank, 'WITHSCORES')
  return row[1], tonumber(row[2])
end

-- True when (score, member) comes after the cursor's in the listing's order.
local function after(desc, score, member, cScore, cMember)
  if score ~= cScore then
    if desc then return score < cScore end
    return score > cScore
  end
  if desc then return bytesLess(member, cMember) end
  return bytesLess(cMember, member)
end

-- The first rank after the cursor (score, member) in the listing's order: a binary search,
-- O(log^2 n), whether or not the cursor's member is still there.
local function firstRank(key, desc, cScore, cMember)
  local lo, hi = 0, redis.call('ZCARD', key)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member, score = zrow(key, desc, mid)
    if after(desc, score, member, cScore, cMember) then hi = mid else lo = mid + 1 end
  end
  return lo
end

-- `tail`, when given, looks at more ids once the set is done (the count of reservations
-- adds svc-infra's list).
local function zsetPage(key, desc, tail)
  local card = redis.call('ZCARD', key)
  local rank = 0
  if hasCursor then rank = firstRank(key, desc, tonumber(ARGV[8]), ARGV[9]) end
  local lastScore, lastMember, snapshot
  local cmd = desc and 'ZREVRANGE' or 'ZRANGE'
  while rank < card do
    if scanned >= budget then return done(true, lastScore, lastMember) end
    local n = math.min(CHUNK, budget - scanned)
    local rows = redis.call(cmd, key, rank, rank + n - 1, 'WITHSCORES')
    if #rows == 0 then break end
    for i = 1, #rows, 2 do
      local id, score = rows[i], rows[i + 1]
      rank = rank + 1
      if visit(id, fieldsOf(id), state) then
        return done(true, snapshot[1], snapshot[2])
      end
      lastScore, lastMember = score, id
      if matched == limit and not snapshot then snapshot = { score, id } end
      if scanned >= budget then break end
    end
  end
  if tail then tail() end
  return done(false)
end

-- ---- processing, by numeric id.

-- Reservation ids read and sorted in one call, at most; more go through mode 'ids'.
local SORT_MAX = 2500

-- The ids of `list` above `floor` (nil: all) as numbers, with their text in `text`.
local function numericIds(list, floor, text, out)
  for _, id in ipairs(list) do
    local n = tonumber(id)
    if n and not text[n] and (not floor or n > floor) then
      text[n] = id
      out[#out + 1] = n
    end
  end
end

-- ARGV[9] '' : read every reservation id and sort them, when there are at most SORT_MAX
-- (else reply more = 2: the client collects the smallest ids with mode 'ids' first);
-- 'complete' or 'partial': ARGV[10..] are the next ids, ascending, and every id above the
-- floor ('complete') or only the smallest of them ('partial').
local function processingPage()
  local floor = hasCursor and tonumber(ARGV[8]) or nil
  local ids, complete = {}, true
  if ARGV[9] ~= '' then
    complete = ARGV[9] == 'complete'
    for i = 10, #ARGV do ids[#ids + 1] = ARGV[i] end
  else
    if redis.call('ZCARD', vtKey) + redis.call('LLEN', processingKey) > SORT_MAX then
      return { 2, '', '', {}, {} }
    end
    local text, nums = {}, {}
    numericIds(redis.call('ZRANGE', vtKey, 0, -1), floor, text, nums)
    numericIds(redis.call('LRANGE', processingKey, 0, -1), floor, text, nums)
    table.sort(nums)
    for i, n in ipairs(nums) do ids[i] = text[n] end
  end
  local last, snapshot
  for _, id in ipairs(ids) do
    if scanned >= budget then return done(true, last, '') end
    if visit(id, fieldsOf(id), 'processing') then return done(true, snapshot, '') end
    last = id
    if matched == limit and not snapshot then snapshot = id end
  end
  if complete or not last then return done(false) end
  return done(true, last, '')
end

if mode == 'ids' then
  -- One chunk of processing_vt from a (score, member) cursor: its ids above the floor, the
  -- smallest `want` of them, and how many there were (the first chunk adds svc-infra's
  -- list). more = 0 once the set is done.
  local floor, want, chunk = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local resuming = ARGV[6] == '1'
  local rank = 0
  if resuming then rank = firstRank(vtKey, false, tonumber(ARGV[7]), ARGV[8]) end
  local rows = redis.call('ZRANGE', vtKey, rank, rank + chunk - 1, 'WITHSCORES')
  local members = {}
  for i = 1, #rows, 2 do members[#members + 1] = rows[i] end
  local text, nums = {}, {}
  numericIds(members, floor, text, nums)
  if not resuming then numericIds(redis.call('LRANGE', processingKey, 0, -1), floor, text, nums) end
  table.sort(nums)
  local out = {}
  for i = 1, math.min(want, #nums) do out[i] = text[nums[i]] end
  local more = rank + #members < redis.call('ZCARD', vtKey)
  local lastScore, lastMember = rows[#rows] or '', rows[#rows - 1] or ''
  return { more and 1 or 0, lastScore, lastMember, { unpack(out) }, { #nums } }
end


if state == 'ready' or state == 'dead' then return listPage(state) end
if state == 'delayed' then return zsetPage(delayedKey, false) end
if state == 'completed' then return zsetPage(completedKey, true) end
if state == 'cancelled' then return zsetPage(cancelledKey, true) end
if state == 'processing' and wantJobs then return processingPage() end
if state == 'processing' then
  -- Counting needs no order: processing_vt by its own order, then the ids only in
  -- svc-infra's list.
  return zsetPage(vtKey, false, function()
    for _, id in ipairs(redis.call('LRANGE', processingKey, 0, -1)) do
      local f = fieldsOf(id)
      if not str(redis.call('ZSCORE', vtKey, id)) and stateOf(id, f, state) == state then
        entries[#entries + 1] = str(f[1])
      end
    end
  end)
end
return redis.error_reply('unknown state ' .. tostring(state))
