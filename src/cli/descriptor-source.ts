import type { DescFile, FileRegistry } from "@bufbuild/protobuf";

/**
 * Where the `ferry` commands find the descriptors of a server's services:
 * gRPC server reflection ({@link ReflectionClient}) or `.proto` files
 * compiled with buf ({@link loadProtoSource}).
 */
export interface DescriptorSource {
  /** Fully qualified names of the services, sorted (for example `shop.v1.InventoryService`). */
  listServices(): Promise<string[]>;
  /**
   * A registry holding the file that defines `symbol` (a service, method
   * `pkg.Service.Method`, message or enum, without a leading dot) and every
   * file it imports.
   *
   * @throws FerryError NOT_FOUND (5) when the source does not know the symbol.
   */
  registryFor(symbol: string): Promise<FileRegistry>;
}

/** Every service defined in `files` (not in their imports), by full name, sorted. */
export function servicesOf(files: Iterable<DescFile>): string[] {
  const names: string[] = [];
  for (const file of files) for (const s of file.services) names.push(s.typeName);
  return names.sort();
}
