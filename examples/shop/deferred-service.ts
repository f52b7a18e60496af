import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "../../src/index.js";

/**
 * An implementation of `service`'s unary methods that waits for `impl`
 * (e.g. services whose database is still opening) and then calls it: a
 * server can listen at once, and calls made before `impl` is ready wait for
 * it. When `impl` rejects, every call rejects with `unavailable(err)`.
 */
export function deferredService<S extends DescService>(service: S, impl: Promise<ServiceImpl<S>>, unavailable: (err: unknown) => Error): ServiceImpl<S> {
  const out: Record<string, (req: unknown, ctx: unknown) => Promise<unknown>> = {};
  for (const method of service.methods) {
    out[method.localName] = async (req, ctx) => {
      const target = (await impl.catch((err: unknown) => Promise.reject(unavailable(err)))) as unknown as Record<string, (req: unknown, ctx: unknown) => unknown>;
      return target[method.localName].call(target, req, ctx);
    };
  }
  return out as unknown as ServiceImpl<S>;
}
