import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { TopologyConfig } from "./topology-config.js";
import { topologyError, validateTopology } from "./validate-topology.js";

/** Options of {@link loadTopology}. */
export interface LoadTopologyOptions {
  /** Variables for `${VAR}` in the file. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of `value` (the
 * JSON/YAML form; `$${` writes a literal `${`). Raises INVALID_ARGUMENT naming
 * the path of a string that uses an unset variable without a default.
 */
export function interpolateTopology(value: unknown, env: Readonly<Record<string, string | undefined>>, path = "", source?: string): unknown {
  if (typeof value === "string") {
    return value.replace(/(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (all, escape: string, name: string, fallback: string | undefined) => {
      if (escape === "$") return all.slice(1);
      const v = env[name];
      if (v !== undefined && v !== "") return v;
      if (fallback !== undefined) return fallback;
      throw topologyError(path, `uses \${${name}}, which is not set (give a default with \${${name}:-value})`, source);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTopology(v, env, `${path}[${i}]`, source));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateTopology(v, env, path === "" ? k : `${path}.${k}`, source)]));
  }
  return value;
}

/**
 * A module reference relative to the config file becomes an absolute path
 * (which both `import()` and the CommonJS build's `require()` load); package
 * names stay.
 */
function resolveModule(spec: string, baseDir: string): string {
  if (spec.startsWith("./") || spec.startsWith("../")) return resolve(baseDir, spec);
  return spec;
}

function resolveModules(config: Record<string, unknown>, baseDir: string): void {
  if (typeof config.module === "string") config.module = resolveModule(config.module, baseDir);
  const serviceConfig = config.serviceConfig as Record<string, unknown> | undefined;
  if (typeof serviceConfig === "object" && serviceConfig !== null && typeof serviceConfig.module === "string") serviceConfig.module = resolveModule(serviceConfig.module, baseDir);
  const services = config.services as Record<string, Record<string, unknown> | null> | undefined;
  if (typeof services !== "object" || services === null) return;
  for (const entry of Object.values(services)) {
    if (typeof entry === "object" && entry !== null && typeof entry.module === "string") entry.module = resolveModule(entry.module, baseDir);
  }
}

async function parseText(file: string, text: string): Promise<unknown> {
  try {
    if (extname(file) === ".json") return JSON.parse(text) as unknown;
    const { parse } = await import("yaml");
    return parse(text) as unknown;
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid topology ${file}: not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`);
  }
}

/**
 * Reads a topology file and validates it ({@link validateTopology}):
 * `.json`, `.yaml`/`.yml` (the operators' form: `${VAR}` and
 * `${VAR:-default}` in strings are replaced from `env`; `module` paths are
 * relative to the file), or `.ts`/`.js`/`.mjs` (the TypeScript form: the
 * module's default export, or its `topology` export).
 *
 * Raises NOT_FOUND for a missing file, INVALID_ARGUMENT for bad syntax or a
 * bad topology (naming the file and the path).
 */
export async function loadTopology(file: string, options: LoadTopologyOptions = {}): Promise<TopologyConfig> {
  const path = resolve(file);
  const ext = extname(path);
  if ([".ts", ".mts", ".js", ".mjs", ".cjs"].includes(ext)) {
    const mod = (await import(path).catch((err: NodeJS.ErrnoException) => {
      throw new FerryError(err.code === "ERR_MODULE_NOT_FOUND" ? Code.NOT_FOUND : Code.INVALID_ARGUMENT, `cannot load topology ${file}: ${err.message}`, { cause: err });
    })) as { default?: unknown; topology?: unknown };
    return validateTopology(mod.topology ?? mod.default, file);
  }
  if (![".json", ".yaml", ".yml"].includes(ext)) throw new FerryError(Code.INVALID_ARGUMENT, `topology ${file}: expected a .json, .yaml, .yml, .ts or .js file`);
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new FerryError(err.code === "ENOENT" ? Code.NOT_FOUND : Code.INVALID_ARGUMENT, `cannot read topology ${file}: ${err.message}`, { cause: err });
  });
  const raw = interpolateTopology(await parseText(file, text), options.env ?? process.env, "", file);
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) resolveModules(raw as Record<string, unknown>, dirname(path));
  return validateTopology(raw, file);
}
