import type { DescMethod, FileRegistry } from "@bufbuild/protobuf";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CliUsageError } from "./cli-error.js";
import type { DescriptorSource } from "./descriptor-source.js";

/** A method named on the command line. */
export interface MethodRef {
  /** Fully qualified service name, e.g. `shop.v1.InventoryService`. */
  readonly service: string;
  /** Method name as in the `.proto` file, e.g. `ListProducts`. */
  readonly method: string;
}

/**
 * Parses `pkg.Service/Method`, `/pkg.Service/Method` (the HTTP/2 path) or
 * `pkg.Service.Method` (grpcurl's and reflection's symbol form).
 *
 * @throws CliUsageError (exit status 2) for anything else.
 */
export function parseMethodRef(text: string): MethodRef {
  const trimmed = text.trim().replace(/^\//, "");
  const slash = trimmed.indexOf("/");
  const split = slash >= 0 ? slash : trimmed.lastIndexOf(".");
  const service = trimmed.slice(0, Math.max(split, 0));
  const method = trimmed.slice(split + 1);
  const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (split <= 0 || !service.split(".").every((part) => ident.test(part)) || !ident.test(method)) {
    throw new CliUsageError(`bad method "${text}": expected SERVICE/METHOD, e.g. shop.v1.InventoryService/ListProducts`);
  }
  return { service, method };
}

/** A method's descriptor and the registry of its files (for JSON with `Any` and extensions). */
export interface ResolvedMethod {
  readonly method: DescMethod;
  readonly registry: FileRegistry;
}

/**
 * Finds the method `text` names through `source` (reflection or `.proto` files).
 *
 * @throws CliUsageError (exit status 2) for a malformed name.
 * @throws FerryError NOT_FOUND (5) when the service or the method does not exist, naming the methods it has.
 */
export async function resolveMethod(source: DescriptorSource, text: string): Promise<ResolvedMethod> {
  const ref = parseMethodRef(text);
  const registry = await source.registryFor(ref.service).catch((err: unknown) => {
    if (err instanceof FerryError && err.code === Code.NOT_FOUND) throw new FerryError(Code.NOT_FOUND, `service "${ref.service}" not found`);
    throw err;
  });
  const service = registry.getService(ref.service);
  if (service === undefined) throw new FerryError(Code.NOT_FOUND, `"${ref.service}" is not a service`);
  const method = service.methods.find((m) => m.name === ref.method) ?? service.methods.find((m) => m.name.toLowerCase() === ref.method.toLowerCase());
  if (method === undefined) {
    throw new FerryError(Code.NOT_FOUND, `service "${ref.service}" has no method "${ref.method}" (it has: ${service.methods.map((m) => m.name).join(", ")})`);
  }
  return { method, registry };
}
