#!/usr/bin/env node
// `npm run demo`: installs and builds everything, then runs the demo.
import { build, installDependencies, log, pnpm } from "./bootstrap.mjs";

installDependencies();
build();
log("Running the demo");
// `npm run demo -- --serve` keeps the app (and its dashboard) running afterwards.
process.exit(
  pnpm(["--filter", "@svc-jobs/example-worker", "demo", ...process.argv.slice(2)], {
    allowFail: true,
  }),
);
