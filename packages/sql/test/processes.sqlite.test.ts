import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SqlJobQueue } from "@svc-jobs/sql";
import { expect, it } from "vitest";
import { createSqliteDatabase, uniqueQueue } from "./helpers/databases.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const worker = fileURLToPath(new URL("./fixtures/sqlite-worker.ts", import.meta.url));

it("workers in separate processes on one SQLite file (WAL, busy timeout) never lose or double a job", async () => {
  const t = await createSqliteDatabase();
  try {
    const name = uniqueQueue("procs");
    const queue = new SqlJobQueue(t.db, { dialect: "sqlite", queue: name });
    await queue.enqueueMany(Array.from({ length: 90 }, (_, i) => ({ name: "n", payload: { i } })));
    const runs = await Promise.all(
      [1, 2, 3].map(() =>
        run(process.execPath, [
          "--import",
          "tsx",
          "--conditions=@svc-jobs/source",
          worker,
          t.file,
          name,
        ]),
      ),
    );
    const seen = runs.flatMap((out) => JSON.parse(out) as string[]);
    expect(seen).toHaveLength(90);
    expect(new Set(seen).size).toBe(90);
    expect(await queue.stats()).toMatchObject({ ready: 0, processing: 0, delayed: 0, dlq: 0 });
    await queue.close();
  } finally {
    await t.destroy();
  }
}, 60_000);

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: packageDir, timeout: 50_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
