import { vitestConfig } from "@svc-jobs/test-servers/vitest-config";

export default vitestConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "sql",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.kysely029.test.ts"],
        },
      },
      {
        // Kysely 0.29 as the only Kysely, package included: what an application on kysely
        // 0.29 runs.
        extends: true,
        resolve: { alias: { kysely: "kysely029" } },
        test: { name: "kysely-0.29", include: ["test/**/*.kysely029.test.ts"] },
      },
    ],
  },
});
