--[[
  Takes the leader lease, or renews it when this owner already holds it.

  KEYS[1]  lease key (e.g. "jobs:leader")
  ARGV[1]  owner token of the caller
  ARGV[2]  lease length in milliseconds

  Returns:
     1  the lease was free and is now held by the caller
     2  the caller already held it; its expiry was pushed out by ARGV[2]
     0  another owner holds it (nothing changed)
]]
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
  return 1
end
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 2
end
return 0
