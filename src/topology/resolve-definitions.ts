import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { isServiceDefinition, type ServiceDefinition } from "./service-definition.js";
import type { TopologyConfig, TopologyModuleRef } from "./topology-config.js";
import { topologyError } from "./validate-topology.js";

/**
 * The {@link ServiceDefinition} of every service of the topology, by name:
 * the entry's `definition`, else the export (`export`, default the service's
 * name) of its `module` (default the topology's). Modules load once each.
 *
 * Raises NOT_FOUND when a module cannot be loaded, INVALID_ARGUMENT when the
 * export is missing or not a definition (naming `services.<name>`).
 */
export async function resolveDefinitions(config: TopologyConfig): Promise<Map<string, ServiceDefinition>> {
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const load = (spec: string, path: string) => {
    let mod = modules.get(spec);
    if (mod === undefined) {
      mod = import(spec).catch((err: NodeJS.ErrnoException) => {
        throw new FerryError(Code.NOT_FOUND, `invalid topology: ${path}: cannot load module ${spec}: ${err.message}`, { cause: err });
      }) as Promise<Record<string, unknown>>;
      modules.set(spec, mod);
    }
    return mod;
  };
  const out = new Map<string, ServiceDefinition>();
  for (const [name, entry] of Object.entries(config.services)) {
    if (entry.definition !== undefined) {
      out.set(name, entry.definition);
      continue;
    }
    const spec = (entry.module ?? config.module)!;
    const mod = await load(spec, `services.${name}`);
    const exported = mod[entry.export ?? name];
    if (!isServiceDefinition(exported)) {
      throw topologyError(`services.${name}`, `${spec} has no service definition named ${JSON.stringify(entry.export ?? name)} (exports: ${Object.keys(mod).join(", ") || "none"})`);
    }
    out.set(name, exported);
  }
  return out;
}

/**
 * The topology's service config: the object itself, or what its module
 * reference exports (an object, or a function called with no arguments).
 * Raises NOT_FOUND for a module that cannot be loaded, INVALID_ARGUMENT for
 * a missing export.
 */
export async function resolveServiceConfig(config: TopologyConfig): Promise<unknown> {
  const sc = config.serviceConfig;
  if (sc === undefined || !("module" in sc) || typeof sc.module !== "string") return sc;
  const ref = sc as TopologyModuleRef;
  const mod = (await import(ref.module).catch((err: Error) => {
    throw new FerryError(Code.NOT_FOUND, `invalid topology: serviceConfig: cannot load module ${ref.module}: ${err.message}`, { cause: err });
  })) as Record<string, unknown>;
  const value = mod[ref.export ?? "default"];
  if (value === undefined) throw topologyError("serviceConfig", `${ref.module} exports no ${JSON.stringify(ref.export ?? "default")}`);
  return typeof value === "function" ? (value as () => unknown)() : value;
}
