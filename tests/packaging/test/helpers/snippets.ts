import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** One ```ts block of a markdown file, as a module that can be type-checked on its own. */
export interface Snippet {
  /** File name to write it under, e.g. `packages-redis-README-2.ts`. */
  file: string;
  /** Where it comes from, e.g. `packages/redis/README.md:41`. */
  origin: string;
  source: string;
}

/** The markdown files whose TypeScript blocks users copy: the READMEs and docs/. */
export function markdownFiles(root: string): string[] {
  const files = ["README.md"];
  for (const group of ["packages", "apps"]) {
    for (const name of readdirSync(path.join(root, group))) {
      const readme = path.join(group, name, "README.md");
      if (existsSync(path.join(root, readme))) files.push(readme);
    }
  }
  const walk = (dir: string) => {
    if (!existsSync(path.join(root, dir))) return;
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".md")) files.push(rel);
    }
  };
  walk("docs");
  return files;
}

/**
 * Every ```ts block of the READMEs and docs/. Free names the snippets share (`queue`,
 * `db`, `mailer`, ...) are declared once in `fixtures/app/snippets/globals.d.ts`.
 */
export function extractSnippets(root: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const rel of markdownFiles(root)) {
    const lines = readFileSync(path.join(root, rel), "utf8").split("\n");
    let start = -1;
    let count = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? "";
      if (start < 0 && /^```(ts|typescript)\s*$/.test(line)) start = i;
      else if (start >= 0 && /^```\s*$/.test(line)) {
        count++;
        const origin = `${rel}:${start + 1}`;
        const file = `${rel.replace(/\.md$/, "").replace(/[/\\.]/g, "-")}-${count}.ts`;
        const body = lines.slice(start + 1, i).join("\n");
        snippets.push({ file, origin, source: `// ${origin}\n${body}\nexport {};\n` });
        start = -1;
      }
    }
  }
  return snippets;
}
