import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import type { Router } from "../../rpc/router.js";
import type { ListeningAddress, ServerTransport } from "../../rpc/server-transport.js";

const routers = new Map<string, Router>();

/**
 * The server side of `inproc://NAME`: makes a server's router callable by
 * name within this process (`createClient(S, "inproc://NAME")`). Raises
 * ALREADY_EXISTS when the name is taken.
 */
export function createInProcessServerTransport(name: string): ServerTransport {
  let bound: Router | undefined;
  return {
    start(router: Router): Promise<ListeningAddress> {
      if (routers.has(name)) return Promise.reject(new FerryError(Code.ALREADY_EXISTS, `inproc://${name} is already in use`));
      routers.set(name, router);
      bound = router;
      return Promise.resolve({ url: `inproc://${name}`, transport: "inproc" });
    },
    shutdown(): Promise<void> {
      if (bound !== undefined && routers.get(name) === bound) routers.delete(name);
      return Promise.resolve();
    },
  };
}

/** The router registered as `inproc://NAME`. Raises UNAVAILABLE when none is. */
export function findInProcessRouter(name: string): Router {
  const router = routers.get(name);
  if (router === undefined) throw new FerryError(Code.UNAVAILABLE, `no server listens on inproc://${name}`);
  return router;
}
