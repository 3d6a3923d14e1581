import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

declare module "vitest" {
  export interface ProvidedContext {
    /** Whether the package and test/stores.kysely029.test.ts share one Kysely. */
    kyselyCopies: "one" | "two";
  }
}

export default vitestConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "webhooks",
          include: ["test/**/*.test.ts"],
          provide: { kyselyCopies: "two" },
        },
      },
      {
        // Kysely 0.29 as the only Kysely, package included: what an application on
        // kysely 0.29 runs.
        extends: true,
        resolve: { alias: { kysely: "kysely029" } },
        test: {
          name: "kysely-0.29",
          include: ["test/**/*.kysely029.test.ts"],
          provide: { kyselyCopies: "one" },
        },
      },
    ],
  },
});
