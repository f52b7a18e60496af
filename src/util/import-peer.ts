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
    const code = (err as { code?: string }).code;
    if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String((err as Error).message).includes(packageName)) {
      throw new FerryError(Code.FAILED_PRECONDITION, `${feature} needs the package "${packageName}": npm install ${packageName}`, { cause: err });
    }
    throw err;
  }
}
