--[[
  Gives the leader lease up, only if the caller still holds it, so a replica whose
  lease already ran out never deletes the lease a newer leader holds.

  KEYS[1]  lease key
  ARGV[1]  owner token of the caller

  Returns:
     1  the caller held the lease and it is gone now
     0  the lease was free or held by another owner (nothing changed)
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
