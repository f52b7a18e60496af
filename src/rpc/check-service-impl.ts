import type { DescService } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";

/**
 * Rejects an implementation whose handler names match none of `service`'s
 * methods, before any call fails later with UNIMPLEMENTED.
 *
 * Handlers are found by each method's `localName` (`getProduct`, not
 * `GetProduct`). On a plain object every function-valued key must name a
 * method. On a class instance (whose other methods may be helpers) a name
 * that matches a method only when case is ignored is rejected, and so is an
 * instance that implements no method at all. Missing methods stay allowed:
 * they answer UNIMPLEMENTED, as gRPC servers do.
 *
 * @throws FerryError INVALID_ARGUMENT naming the unknown keys and listing the
 *   expected names.
 */
export function checkServiceImpl(service: DescService, impl: object): void {
  const expected = service.methods.map((m) => m.localName);
  const known = new Set(expected);
  const plain = isPlainObject(impl);
  const names = handlerNames(impl, plain);
  const lower = new Map(expected.map((n) => [n.toLowerCase(), n]));
  const unknown = names.filter((n) => !known.has(n) && (plain || lower.has(n.toLowerCase())));
  const noneMatch = expected.length > 0 && names.length > 0 && !names.some((n) => known.has(n));
  if (unknown.length === 0 && !noneMatch) return;
  const listed = (unknown.length > 0 ? unknown : names).map((n) => `"${n}"`).join(", ");
  throw new FerryError(
    Code.INVALID_ARGUMENT,
    `implementation of ${service.typeName} has ${listed}, which match${unknown.length === 1 ? "es" : ""} no method; expected handler names: ${expected.join(", ")}`,
  );
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function handlerNames(impl: object, plain: boolean): string[] {
  const names = new Set<string>();
  let current: object | null = impl;
  while (current !== null && current !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(current)) {
      if (key === "constructor") continue;
      const value = Object.getOwnPropertyDescriptor(current, key)?.value as unknown;
      if (typeof value === "function") names.add(key);
    }
    if (plain) break;
    current = Object.getPrototypeOf(current) as object | null;
  }
  return [...names];
}
