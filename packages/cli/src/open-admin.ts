import { CliError, EXIT_USAGE } from "./cli-error.js";
import type { AdminConnection, AdminTarget, DriverAdmin } from "./jobs-driver.js";
import { driverNamed, JOBS_DRIVERS, resolveDriver } from "./jobs-drivers.js";

export type { AdminConnection, AdminTarget } from "./jobs-driver.js";

/**
 * Connects an admin command to the shared queue of the selected driver. A driver
 * without admin access (memory: jobs live inside one process, so a fresh `svc-jobs`
 * process would always see an empty queue) is refused with a message naming the
 * drivers that have it.
 *
 * @example
 * ```ts
 * const admin = await openAdmin({ command: "stats" });
 * console.log(await admin.queue("jobs").stats());
 * await admin.close();
 * ```
 */
export async function openAdmin(target: AdminTarget): Promise<AdminConnection> {
  const name = resolveDriver(target.driver ?? process.env.JOBS_DRIVER);
  const driver = driverNamed(name);
  if (!driver.admin) {
    const shared = Object.values(JOBS_DRIVERS)
      .map((d) => d.admin)
      .filter((admin): admin is DriverAdmin => admin !== undefined)
      .map((admin) => admin.selectHint);
    throw new CliError(
      `svc-jobs ${target.command} needs a shared queue, but the driver is ${name}${driver.notShared ? ` (${driver.notShared})` : ""}: set ${shared.join(", or ")}`,
      { code: "ERR_MEMORY_DRIVER", exitCode: EXIT_USAGE },
    );
  }
  return driver.admin.open(target);
}

/** What an admin command takes besides its own options: a target, or an open connection. */
export interface AdminCommandTarget extends AdminTarget {
  /**
   * An open connection to use instead of connecting to `target` (it is left open), e.g.
   * one around an `InMemoryJobQueue` in a test or a tool that embeds the command.
   */
  admin?: AdminConnection;
}

/**
 * Runs `body` with the connection of `target`: `target.admin` when given (left open),
 * else one opened with {@link openAdmin} and closed afterwards.
 */
export async function withAdmin<T>(
  target: AdminCommandTarget,
  body: (admin: AdminConnection) => Promise<T>,
): Promise<T> {
  if (target.admin) return body(target.admin);
  const admin = await openAdmin(target);
  try {
    return await body(admin);
  } finally {
    await admin.close();
  }
}
