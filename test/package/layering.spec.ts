/**
 * The core (src/rpc, src/contract, src/util) imports no transport, channel,
 * registry or messaging code, statically or dynamically: each transport
 * registers its own URL schemes from its entry point.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const core = ["src/rpc", "src/contract", "src/util"];
const outside = /(?:from\s+|import\()\s*"\.\.\/(?:transport|channel|registry|messaging|gateway|resilience|cli|consistency|testing)\//;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".spec.ts") ? [join(dir, e.name)] : [],
  );
}

describe("layering", () => {
  it("the core imports no room above it", () => {
    const offenders = core.flatMap(sources).filter((file) => outside.test(readFileSync(file, "utf8")));
    expect(offenders).toEqual([]);
  });
});
