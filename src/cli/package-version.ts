import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The `version` of the `ferry` package this file belongs to, found by walking
 * up from this module to the nearest package.json named "ferry" (the layout
 * differs between `src/cli/` and `dist/esm/cli/`). "0.0.0" when none is found.
 */
export function readPackageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "ferry" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // no package.json here; keep walking up
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}
