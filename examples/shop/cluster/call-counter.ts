import type { Interceptor } from "../../../src/index.js";

/**
 * Counts the calls a server handled, per method path, finished or failed. The
 * separate-process shop prints the counts when it receives SIGUSR2 (and at
 * shutdown), which is how the cluster test sees the balance between two
 * inventory instances.
 */
export class CallCounter {
  readonly #counts = new Map<string, number>();

  /** The server interceptor that counts. */
  readonly interceptor: Interceptor = (next) => (request) => {
    this.#counts.set(request.method.path, (this.#counts.get(request.method.path) ?? 0) + 1);
    return next(request);
  };

  /** Calls per method path (`/shop.v1.InventoryService/GetProduct`), and their total. */
  snapshot(): { total: number; calls: Record<string, number> } {
    let total = 0;
    const calls: Record<string, number> = {};
    for (const [path, n] of this.#counts) {
      calls[path] = n;
      total += n;
    }
    return { total, calls };
  }
}
