#!/usr/bin/env node
// `npm run demo`: installs and builds everything, then runs the demo.
import { build, installDependencies, log, pnpm } from "./bootstrap.mjs";

installDependencies();
build();
log("Running the demo");
process.exit(pnpm(["--filter", "@svc-jobs/example-worker", "demo"], { allowFail: true }));
