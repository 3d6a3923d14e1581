/** Resolves after `ms` real milliseconds. */
export const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 5 ms until it holds; fails the test after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await tick(5);
  }
}
