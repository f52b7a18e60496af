/**
 * Every `import … from "ferry…"` in the README and docs/ names an entry point
 * of package.json "exports", and every value it imports is exported there.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface ExportEntry {
  "ferry-source": string;
}

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, ExportEntry | string> };
const pages = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => join("docs", f))];
const importPattern = /import\s*\{([^}]*)\}\s*from\s*"(ferry(?:\/[^"]*)?)"/g;

interface DocImport {
  readonly page: string;
  readonly specifier: string;
  readonly names: string[];
}

function docImports(): DocImport[] {
  const found: DocImport[] = [];
  for (const page of pages) {
    for (const m of readFileSync(page, "utf8").matchAll(importPattern)) {
      const names = m[1]
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "" && !n.startsWith("type ") && !n.startsWith("//"))
        .map((n) => n.split(/\s+as\s+/)[0].trim());
      found.push({ page, specifier: m[2], names });
    }
  }
  return found;
}

describe("the docs' imports", () => {
  const imports = docImports();

  it("are found (the scan works)", () => {
    expect(imports.length).toBeGreaterThan(10);
  });

  it.each(imports.map((i) => [i.page, i.specifier, i] as const))("%s: %s resolves and exports what it imports", async (_page, specifier, entry) => {
    const subpath = specifier === "ferry" ? "." : `./${specifier.slice("ferry/".length)}`;
    const target = pkg.exports[subpath];
    expect(target, `package.json exports has no "${subpath}"`).toBeDefined();
    const source = typeof target === "string" ? target : target["ferry-source"];
    const mod = (await import(join(process.cwd(), source))) as Record<string, unknown>;
    const missing = entry.names.filter((n) => !(n in mod));
    expect(missing, `${specifier} does not export ${missing.join(", ")}`).toEqual([]);
  });
});
