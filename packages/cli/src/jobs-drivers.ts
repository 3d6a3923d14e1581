import { ConfigError } from "@svc-jobs/core";
import type {
  EasyJobs,
  JobsDriver,
  MemoryEasyJobs,
  PostgresEasyJobs,
  RedisEasyJobs,
  SqliteEasyJobs,
} from "./easy-jobs.js";
import type { JobsDriverDefinition } from "./jobs-driver.js";
import { memoryDriver } from "./memory-driver.js";
import { postgresDriver } from "./postgres-driver.js";
import { redisDriver } from "./redis-driver.js";
import { sqliteDriver } from "./sqlite-driver.js";

/**
 * The queue backends of `easyJobs()` and `svc-jobs`, by `JOBS_DRIVER` name. A new
 * backend is one more entry here plus its `EasyJobs` variant.
 */
export const JOBS_DRIVERS: {
  readonly memory: JobsDriverDefinition<MemoryEasyJobs>;
  readonly redis: JobsDriverDefinition<RedisEasyJobs>;
  readonly sqlite: JobsDriverDefinition<SqliteEasyJobs>;
  readonly postgres: JobsDriverDefinition<PostgresEasyJobs>;
} = {
  memory: memoryDriver,
  redis: redisDriver,
  sqlite: sqliteDriver,
  postgres: postgresDriver,
} satisfies { [K in JobsDriver]: JobsDriverDefinition<Extract<EasyJobs, { driver: K }>> };

/** Reads a driver name, case-insensitively; `undefined` or empty means `memory`. */
export function resolveDriver(value: string | undefined): JobsDriver {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "") return "memory";
  if (Object.hasOwn(JOBS_DRIVERS, text)) return text as JobsDriver;
  const choices = Object.entries(JOBS_DRIVERS).map(
    ([name, driver]) => `"${name}" (${driver.summary})`,
  );
  const list =
    choices.length > 1 ? `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}` : choices[0];
  throw new ConfigError(`JOBS_DRIVER is ${JSON.stringify(value)}: set it to ${list}`, {
    code: "ERR_JOBS_DRIVER",
  });
}

/** The driver a name stands for. */
export function driverNamed(name: JobsDriver): JobsDriverDefinition {
  return JOBS_DRIVERS[name] as JobsDriverDefinition;
}

/** The driver that built `jobs`. */
export function driverOf(jobs: EasyJobs): JobsDriverDefinition {
  return driverNamed(jobs.driver);
}
