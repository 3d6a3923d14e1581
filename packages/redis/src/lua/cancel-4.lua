--[[
  Cancels a job that is ready, delayed or reserved (either side's reservation). A waiting
  job leaves its list (LREM of its priority's list: a scan of that list, an operator's
  action) or `delayed` (ZREM); a reservation ends as an ack would end it, so a late ack,
  fail, release, progress or extendVisibility of it is fenced off. Then, when the queue
  keeps cancelled jobs, the hash stays with svc_jobs_state 'cancelled' and is indexed in
  `{prefix}:cancelled` (trimming the oldest, a small batch at most); otherwise it is
  deleted, except for a reserved job's, which stays marked cancelled for the visibility
  timeout + 60 s (PEXPIRE) so that the worker holding it learns why (checkReservations).

  Input:
    KEYS[1] ready          LIST
    KEYS[2] processing     LIST  (svc-infra's reservations)
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] now (epoch seconds)
    ARGV[4] the reason, '' for none
    ARGV[5] cancelled jobs kept at most ('inf': no limit), '' to keep none
    ARGV[6] kept cancelled jobs' age limit in seconds ('inf': no limit)
    ARGV[7] how long a cancelled reservation's hash stays when none are kept, ms
    ARGV[8] the event stream's cap (a `cancelled` event), '' for no events

  Output: 1 when the job was cancelled, 0 when it is unknown, dead or finished.
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, id, now, reason, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = jobKey(prefix, id)
local f = redis.call('HMGET', key, 'id', 'name', STATE, PRIORITY, GROUP)
if not str(f[1]) or str(f[3]) then return 0 end

local reserved = false
if str(redis.call('ZSCORE', vtKey, id)) then
  endReservation(prefix, processingKey, vtKey, id)
  reserved = true
elseif redis.call('ZREM', delayedKey, id) == 0 then
  -- A job with a group waits in its group's lists (the same layout under its prefix).
  local group = str(f[5])
  local base, rk = prefix, readyKey
  if group then
    base = groupPrefix(prefix, group)
    rk = base .. ':ready'
  end
  local list = waitingList(base, rk, str(f[4]))
  -- Every copy (svc-infra's recovery can push an id twice, and pushes any priority's job to
  -- `ready`). None: the job is in no waiting list, so it is dead (svc-infra dead-letters
  -- without marking the hash).
  local removed = redis.call('LREM', list, 0, id)
  if list ~= rk then
    if redis.call('LLEN', list) == 0 then redis.call('ZREM', base .. ':priorities', str(f[4])) end
    if removed == 0 then removed = redis.call('LREM', rk, 0, id) end
  end
  if group then
    if removed > 0 then redis.call('DECR', prefix .. ':groups:ready') end
    if removed == 0 then removed = redis.call('LREM', readyKey, 0, id) end
  end
  if removed == 0 then return 0 end
end

if reason ~= '' then
  emit(prefix, ARGV[8], now, 'cancelled', id, str(f[2]), 'reason', reason)
else
  emit(prefix, ARGV[8], now, 'cancelled', id, str(f[2]))
end
local extra = {}
if reason ~= '' then extra = { 'svc_jobs_cancel_reason', reason } end
if keep == '' and reserved then
  -- The holder learns it was cancelled, not lost, until its reservation would have ended.
  redis.call('HSET', key, STATE, 'cancelled', FINISHED_AT, now, unpack(extra))
  redis.call('PEXPIRE', key, ARGV[7])
else
  finish(prefix, key, id, 'cancelled', now, keep, ARGV[6], extra)
end
return 1
