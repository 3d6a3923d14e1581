// ioredis-mock ships no types of its own (users add @types/ioredis-mock); the tests
// only need its constructor, typed as the ioredis client it stands in for.
declare module "ioredis-mock" {
  import type { Redis, RedisOptions } from "ioredis";

  const RedisMock: new (options?: RedisOptions) => Redis;
  export default RedisMock;
}
