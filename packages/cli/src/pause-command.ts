import { type AdminCommandTarget, withAdmin } from "./open-admin.js";

// `svc-jobs pause` / `svc-jobs resume`: docs/contract.md, "Seeing and controlling jobs" (Pause).

/** Options of {@link pauseCommand} and {@link resumeCommand}. */
export interface PauseCommandOptions extends AdminCommandTarget {
  prefix: string;
  /** Print `{ prefix, paused }` as JSON. @default false */
  json?: boolean;
  /** Where output goes. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/** `svc-jobs pause`: every worker process stops reserving (running jobs finish); prints the new state. */
export function pauseCommand(options: PauseCommandOptions): Promise<void> {
  return setPaused(options, true);
}

/** `svc-jobs resume`: workers take jobs again; prints the new state. */
export function resumeCommand(options: PauseCommandOptions): Promise<void> {
  return setPaused(options, false);
}

async function setPaused(options: PauseCommandOptions, pause: boolean): Promise<void> {
  const out = options.out ?? process.stdout;
  await withAdmin(options, async (admin) => {
    const queue = admin.queue(options.prefix);
    const was = await queue.isPaused();
    if (pause) await queue.pause();
    else await queue.resume();
    const paused = await queue.isPaused();
    if (options.json) {
      out.write(`${JSON.stringify({ prefix: options.prefix, paused })}\n`);
      return;
    }
    const still = was === paused ? " (it already was)" : "";
    out.write(
      paused
        ? `queue "${options.prefix}" is paused${still}: workers reserve nothing until svc-jobs resume; running jobs finish, enqueue keeps working\n`
        : `queue "${options.prefix}" is running${still}: workers take jobs\n`,
    );
  });
}
