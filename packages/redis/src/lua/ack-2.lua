--[[
  Completes a reserved job and deletes its hash. Fenced by the attempt number. O(log n):
  a svc-jobs reservation lives in processing_vt only.

  Input:
    KEYS[1] processing     LIST  (svc-infra's reservations)
    KEYS[2] processing_vt  ZSET

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] attempt number of the caller's reservation, '' to act on the current one

  Output: 1 when acked, 0 when the reservation is gone or belongs to a newer attempt.
]]
-- @include "common"

local processingKey, vtKey = KEYS[1], KEYS[2]
local prefix, id = ARGV[1], ARGV[2]
if not fenced(prefix, vtKey, id, ARGV[3]) then return 0 end
endReservation(prefix, processingKey, vtKey, id)
redis.call('DEL', jobKey(prefix, id))
return 1
