import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/**
 * Imports an optional peer dependency (a broker client, a registry client, a
 * database driver, an OpenTelemetry SDK package) on first use. `load` must be
 * a literal `() => import("pkg")` so bundlers and the CommonJS build keep it
 * lazy.
 *
 * @param packageName the npm package to name in the error.
 * @param load imports it.
 * @param feature what needs it, for the message (default "this feature").
 * @throws FerryError FAILED_PRECONDITION (not retryable) when the package is
 *   not installed: `<feature> needs the package "x": npm install x`. Any other
 *   load failure is rethrown as it is.
 */
export async function importPeer<T>(packageName: string, load: () => Promise<T>, feature = "this feature"): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw missingPeerError(err, packageName, feature) ?? err;
  }
}

/**
 * The FAILED_PRECONDITION that {@link importPeer} raises when `err` (from an
 * `import()`, a `require()` or a `require.resolve()`) says an optional peer
 * is not installed: `<feature> needs the package "x": npm install x`, naming
 * the package the error names (else `packageName`). `undefined` when `err`
 * is another failure, to be rethrown as it is.
 */
export function missingPeerError(err: unknown, packageName: string, feature = "this feature"): FerryError | undefined {
  const missing = missingPackage(err, packageName);
  if (missing === undefined) return undefined;
  return new FerryError(Code.FAILED_PRECONDITION, `${feature} needs the package "${missing}": npm install ${missing}`, { cause: err });
}

/**
 * The package a module-not-found error names (Node's ESM `Cannot find package
 * 'x'` and CommonJS `Cannot find module 'x'`), or `fallback` when the text
 * names none (or for ERR_PACKAGE_PATH_NOT_EXPORTED); `undefined` when `err`
 * is not a module-not-found error or it names a relative file (a broken
 * install, not a missing peer).
 */
function missingPackage(err: unknown, fallback: string): string | undefined {
  const code = (err as { code?: string } | null)?.code;
  // An installed version whose "exports" hide the file asked for is as unusable as a missing one.
  if (code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return fallback;
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return undefined;
  const named = /Cannot find (?:package|module) '([^']+)'/.exec(String((err as Error).message))?.[1];
  if (named === undefined) return fallback;
  if (named.startsWith(".") || named.startsWith("/")) return undefined;
  const parts = named.split("/");
  return named.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}
