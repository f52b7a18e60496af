import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";

/**
 * The default directory of PGlite templates: `<tmpdir>/ferry-<user>` (one
 * per user, mode 0700, so nobody else can plant a template).
 */
export function defaultTemplateDir(): string {
  let user = "user";
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, "_") || user;
  } catch {
    // no passwd entry (some containers): one shared name
  }
  return join(tmpdir(), `ferry-${user}`);
}

/**
 * Opens PGlite through `open` from a template of a freshly initialised
 * cluster, cached in `dir` per PGlite version: PGlite's `initdb` takes about
 * five seconds on a small machine, loading the template about one. Without
 * a template yet (or with a damaged one), `open(undefined)` runs initdb and
 * the new cluster is dumped into the template (atomically: a temporary file
 * renamed) for the next start, here or in another process. A template that
 * cannot be written (a read-only temp directory) is skipped silently.
 */
export async function openFromTemplate(dir: string, open: (template: Blob | undefined) => Promise<PGlite>): Promise<PGlite> {
  const version = await pgliteVersion();
  if (version === undefined) return open(undefined);
  const file = join(dir, `pglite-template-${version}.tar`);
  const cached = await readFile(file).catch(() => undefined);
  if (cached !== undefined && cached.length > 0) {
    const db = await open(new Blob([cached])).catch(() => undefined);
    if (db !== undefined) return db;
  }
  const db = await open(undefined);
  try {
    const dump = Buffer.from(await (await db.dumpDataDir("none")).arrayBuffer());
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const partial = `${file}.${process.pid}.${Date.now()}`;
    await writeFile(partial, dump, { mode: 0o600 });
    await rename(partial, file);
  } catch {
    // no template this time: the next start runs initdb again
  }
  return db;
}
let assets: Promise<PgliteAssets> | undefined;

/** PGlite's compiled WebAssembly modules and file-system bundle (options of `PGlite.create`). */
export interface PgliteAssets {
  /** A compiled `WebAssembly.Module` (typed as an object: the build has no DOM/WebAssembly lib types). */
  pgliteWasmModule?: object;
  initdbWasmModule?: object;
  fsBundle?: Blob;
}

/**
 * PGlite's WebAssembly modules compiled once per process and its file-system
 * bundle read once, shared by every PGlite this process opens (a second
 * in-memory store starts about a third faster). Empty when they cannot be
 * found: PGlite then loads them itself.
 */
export function pgliteAssets(): Promise<PgliteAssets> {
  assets ??= (async () => {
    try {
      const dist = pgliteDistDir();
      // Node's global WebAssembly (the library's TypeScript lib has no DOM types).
      const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;
      const [pgliteWasmModule, initdbWasmModule, data] = await Promise.all([
        readFile(join(dist, "pglite.wasm")).then((b) => wasm.compile(b)),
        readFile(join(dist, "initdb.wasm")).then((b) => wasm.compile(b)),
        readFile(join(dist, "pglite.data")),
      ]);
      return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([data]) };
    } catch {
      return {};
    }
  })();
  return assets;
}

declare const require: NodeJS.Require | undefined;

/**
 * The directory of PGlite's main module. This file is also compiled to
 * CommonJS, where `import.meta` is a syntax error: there Ferry's own
 * `require` resolves it; as an ES module it is resolved from the working
 * directory (the application's root, where its peers are installed). Throws
 * when PGlite cannot be found (callers then let PGlite load itself).
 */
function pgliteDistDir(): string {
  const resolve = typeof require === "function" ? require.resolve : createRequire(join(process.cwd(), "index.js")).resolve;
  return dirname(resolve("@electric-sql/pglite"));
}

/** `<version>-<size of the wasm>` of the installed PGlite: a template is only valid for the PGlite that made it. */
async function pgliteVersion(): Promise<string | undefined> {
  try {
    const dist = pgliteDistDir();
    const pkg = JSON.parse(await readFile(join(dist, "..", "package.json"), "utf8")) as { version?: string };
    const wasm = await stat(join(dist, "pglite.wasm")).then((s) => s.size, () => 0);
    return pkg.version === undefined ? undefined : `${pkg.version}-${wasm}`;
  } catch {
    return undefined;
  }
}
