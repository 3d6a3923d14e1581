// Copies non-TypeScript assets (Lua scripts) next to the compiled output.
import { cpSync } from "node:fs";

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error("usage: copy-assets.mjs <from-dir> <to-dir>");
  process.exit(2);
}
cpSync(from, to, { recursive: true });
