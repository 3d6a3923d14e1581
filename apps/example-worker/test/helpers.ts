import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const APP_DIR = fileURLToPath(new URL("..", import.meta.url));
export const TSX = fileURLToPath(new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url));
export const SVC_JOBS = fileURLToPath(
  new URL("../node_modules/@svc-jobs/cli/dist/bin.js", import.meta.url),
);

export interface Proc {
  child: ChildProcess;
  readonly output: string;
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Starts `node args...` in the app folder with only the given environment (plus PATH/HOME). */
export function start(args: string[], env: Record<string, string | undefined>): Proc {
  const fullEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) fullEnv[k] = v;
  const child = spawn(process.execPath, args, {
    cwd: APP_DIR,
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      for (const l of listeners) l();
      resolve(code);
    });
  });
  return {
    child,
    get output() {
      return output;
    },
    waitFor(pattern, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = output.match(pattern);
          if (m) {
            done();
            resolve(m);
          } else if (child.exitCode !== null) {
            done();
            reject(new Error(`process exited (${child.exitCode}) before ${what}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${what}:\n${output}`));
        }, timeoutMs);
        function done() {
          clearTimeout(timer);
          listeners.delete(check);
        }
        listeners.add(check);
        check();
      });
    },
    exited,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
