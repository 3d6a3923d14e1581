#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { runCli } from "./run-cli.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};
const code = await runCli(process.argv.slice(2), { version: pkg.version });
// Exit explicitly: a handlers module may leave timers or sockets open after the worker stopped.
process.exit(code);
