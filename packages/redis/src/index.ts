export {
  type DiscoverRedisQueuePrefixesClient,
  discoverRedisQueuePrefixes,
  type RedisScanNode,
} from "./discover-redis-queue-prefixes.js";
export {
  RedisJobQueue,
  type RedisJobQueueClient,
  type RedisJobQueueOptions,
} from "./redis-job-queue.js";
export { RedisLeader, type RedisLeaderClient, type RedisLeaderOptions } from "./redis-leader.js";
