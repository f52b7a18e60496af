/** The README's example is the file it names, and that file runs and prints what its comments say. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("README", () => {
  it("shows examples/hello/hello.ts verbatim", () => {
    const readme = readFileSync("README.md", "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block?.trim()).toBe(readFileSync("examples/hello/hello.ts", "utf8").trim());
  });

  it("its example runs and prints the product and the NOT_FOUND error", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "examples/hello/hello.ts"], { env: { ...process.env, FERRY_LOG_LEVEL: "silent" } });
    expect(stdout).toBe('Mechanical keyboard 8900n\ntrue unknown SKU "NOPE"\n');
  });

  it("shows, on its first screen, how to install, one ferry command and the two commands", () => {
    const readme = readFileSync("README.md", "utf8").split("\n").slice(0, 20).join("\n");
    expect(readme).toContain("npm install ferry");
    expect(readme).toMatch(/npx ferry \w+/);
    expect(readme).toContain("npm start");
    expect(readme).toContain("npm test");
  });
});
