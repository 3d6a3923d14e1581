--[[
  Completes a reserved job: deletes its hash or, when the queue keeps completed jobs, marks
  it completed and indexes it in `{prefix}:completed` (trimming the oldest, a small batch
  at most). Fenced by the attempt number. O(log n): a svc-jobs reservation lives in
  processing_vt only.

  Input:
    KEYS[1] processing     LIST  (svc-infra's reservations)
    KEYS[2] processing_vt  ZSET

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one
    ARGV[4] now (epoch seconds)
    ARGV[5] the result as JSON text, '' for none
    ARGV[6] completed jobs kept at most ('inf': no limit), '' to keep none
    ARGV[7] kept completed jobs' age limit in seconds ('inf': no limit)
    ARGV[8] the event stream's cap (a `completed` event), '' for no events

  Output: 1 when acked, 0 when the reservation is gone or belongs to a newer attempt.
]]
-- @include "common"

local processingKey, vtKey = KEYS[1], KEYS[2]
local prefix, id, now, result, maxLen = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[8]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end
endReservation(prefix, processingKey, vtKey, id)
local key = jobKey(prefix, id)
if maxLen ~= '' then
  local f = redis.call('HMGET', key, 'name', 'attempts')
  if result ~= '' then
    emit(prefix, maxLen, now, 'completed', id, str(f[1]), 'attempt', str(f[2]) or '0',
      'result', result)
  else
    emit(prefix, maxLen, now, 'completed', id, str(f[1]), 'attempt', str(f[2]) or '0')
  end
end
local extra = {}
if result ~= '' then extra = { 'svc_jobs_result', result } end
finish(prefix, key, id, 'completed', now, ARGV[6], ARGV[7], extra)
return 1
