/** Absolute path of src/lua/scripts.generated.ts. */
export const GENERATED_FILE: string;

/**
 * The text of scripts.generated.ts for the .lua files in `dir` (a file URL of a folder,
 * ending in "/"; default src/lua/).
 */
export function generateLuaModule(dir?: URL): string;
