import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPILED_DIR, compiledPath, MODULE_EXT, REPO_ROOT, repoPath } from "../../bench/lib/compiled.js";
import { contenderModule } from "../../bench/lib/contenders.js";

describe("bench: compiled children", () => {
  it("finds the repository root and maps sources into build/bench-js", () => {
    expect(existsSync(join(REPO_ROOT, "package.json"))).toBe(true);
    expect(existsSync(repoPath("test/proto/ferry/test/v1/echo.proto"))).toBe(true);
    expect(compiledPath(repoPath("bench/lib/server-process.ts"))).toBe(join(COMPILED_DIR, "bench/lib/server-process.js"));
  });

  it("resolves contender modules in the tree it runs (sources under vitest)", () => {
    expect(MODULE_EXT).toBe(".ts");
    expect(existsSync(contenderModule("ferry-grpc", "server"))).toBe(true);
  });
});
