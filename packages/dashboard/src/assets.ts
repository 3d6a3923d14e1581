import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { STYLES } from "./styles.js";

/** One static file the dashboard serves from its own process (no CDN: works air-gapped). */
export interface Asset {
  body: string;
  contentType: string;
  /** A content hash: part of the URL, so the file can be cached for good. */
  hash: string;
}

/**
 * The files the pages load: htmx and its SSE extension, read from the installed
 * `htmx.org` and `htmx-ext-sse` packages, and the dashboard's stylesheet. Read once.
 */
export function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const files: [string, string, string][] = [
    ["htmx.js", readFileSync(require.resolve("htmx.org/dist/htmx.min.js"), "utf8"), "js"],
    ["sse.js", readFileSync(require.resolve("htmx-ext-sse/dist/sse.min.js"), "utf8"), "js"],
    ["dashboard.css", STYLES, "css"],
  ];
  const assets = new Map<string, Asset>();
  for (const [name, body, kind] of files) {
    assets.set(name, {
      body,
      contentType: kind === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
      hash: createHash("sha256").update(body).digest("hex").slice(0, 12),
    });
  }
  return assets;
}
