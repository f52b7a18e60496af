import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const child = fileURLToPath(new URL("./lazy-load-child.ts", import.meta.url));

/**
 * In a fresh process: how many files of `pkg` are loaded after importing the
 * adapter module at `modulePath` (`before`, expected 0) and after its
 * `adapterFactory(url)` ran (`after`).
 */
export async function clientLibraryLoads(modulePath: string, url: string, pkg: string): Promise<{ before: number; after: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child, modulePath, url, pkg], { timeout: 30_000 });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { before: number; after: number };
}
