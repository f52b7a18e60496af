/**
 * Checks that a broker adapter loads its client library only when its
 * factory runs: imports the adapter module, counts the files of `pkg` Node
 * has loaded, calls `adapterFactory(url)`, counts again, prints
 * `{"before":n,"after":m}` and exits.
 * Usage: node --import tsx lazy-load-child.ts <adapter module path> <url> <package>
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [modulePath, url, pkg] = process.argv.slice(2);
const cache = (createRequire(import.meta.url)("node:module") as { _cache: Record<string, unknown> })._cache;
const loaded = (): number => Object.keys(cache).filter((k) => k.includes(`/node_modules/${pkg}/`)).length;
const silent = { error() {}, warn() {}, info() {}, debug() {} };

const mod = (await import(pathToFileURL(modulePath).href)) as {
  adapterFactory: (u: URL, o: object) => Promise<{ close(): Promise<void> }>;
};
const before = loaded();
const adapter = await mod.adapterFactory(new URL(url), { logger: silent, adapterOptions: {} });
const after = loaded();
await adapter.close();
console.log(JSON.stringify({ before, after }));
process.exit(0);
