import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { Registration, ServiceInstance } from "./service-registry.js";

/** Builds a registry-made instance for `url` (a transport URL); its instanceId is the URL itself. */
export function instanceFromUrl(service: string, url: string, metadata: Record<string, string> = {}, instanceId = url): ServiceInstance {
  if (!URL.canParse(url)) throw new FerryError(Code.INVALID_ARGUMENT, `invalid endpoint URL "${url}" for ${service}: expected e.g. grpc://10.0.0.5:50051`);
  return { service, instanceId, endpoints: [{ transport: transportOfUrl(url), url }], metadata };
}

/** The transport name of a URL: its scheme up to any `+` (`native+unix:` → `native`). */
export function transportOfUrl(url: string): string {
  return new URL(url).protocol.slice(0, -1).split("+")[0] ?? "";
}

/** The rejection of `register()` by a read-only backend. */
export function readOnly(kind: string): Promise<Registration> {
  return Promise.reject(
    new FerryError(Code.FAILED_PRECONDITION, `the ${kind} registry is read-only: register instances in a memory:, nats:// or etcd:// registry`),
  );
}
