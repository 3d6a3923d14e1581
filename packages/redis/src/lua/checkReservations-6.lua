--[[
  Which of a worker's reservations it no longer holds, after housekeeping (a bounded batch,
  as reserve does), so an expired reservation reads as lost, as every backend reports it.
  A reservation is held while its id is in processing_vt and (given an attempt number) the
  hash's attempts is that number.

  Input:
    KEYS[1] ready          LIST
    KEYS[2] processing     LIST  (svc-infra's reservations)
    KEYS[3] processing_vt  ZSET
    KEYS[4] delayed        ZSET
    KEYS[5] dlq            LIST
    KEYS[6] wake           LIST

    ARGV[1] key prefix
    ARGV[2] now (epoch seconds)
    ARGV[3] now as ISO-8601 UTC
    ARGV[4] housekeeping batch size
    ARGV[5], ARGV[6] last_error of an expired reservation, before and after the attempt number
    ARGV[7] the event stream's cap (`expired`, `dead` events), '' for no events
    ARGV[8], ARGV[9], ... pairs of job id and the attempt number reserved with ('' for any)

  Output: { id, status, reason, id, status, reason, ... } for the reservations not held, in
    the order given: status 'cancelled' when the hash is marked cancelled (svc_jobs_state)
    and its attempts is still the one given, with the cancel's reason ('' for none); else
    'lost' (expired and moved on, finished, or gone), reason ''.
]]
-- @include "common"

local readyKey, processingKey, vtKey, delayedKey, dlqKey, wakeKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[4])
local moved = requeueExpired(prefix, readyKey, processingKey, vtKey, dlqKey, now, ARGV[3],
  ARGV[5], ARGV[6], limit, ARGV[7])
moved = moved + promoteDelayed(prefix, readyKey, delayedKey, now, limit)
wake(wakeKey, moved)

local out = {}
for i = 8, #ARGV - 1, 2 do
  local id, attempts = ARGV[i], ARGV[i + 1]
  local f = redis.call('HMGET', jobKey(prefix, id), 'attempts', STATE, 'svc_jobs_cancel_reason')
  local same = attempts == '' or (str(f[1]) or '0') == attempts
  if not (same and str(redis.call('ZSCORE', vtKey, id))) then
    out[#out + 1] = id
    -- Cancelled during this very reservation; an older attempt's holder lost it before.
    if same and str(f[2]) == 'cancelled' then
      out[#out + 1] = 'cancelled'
      out[#out + 1] = str(f[3]) or ''
    else
      out[#out + 1] = 'lost'
      out[#out + 1] = ''
    end
  end
end
return reply(out)
