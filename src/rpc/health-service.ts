import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import type { CallContext } from "./call-context.js";
import { Code } from "./code.js";
import { FerryError } from "./ferry-error.js";
import type { Server } from "./server.js";
import { AsyncQueue } from "../util/async-queue.js";

export { ServingStatus };

type Listener = (status: ServingStatus) => void;

const added = new WeakMap<Server, HealthStatus>();

/**
 * The serving status behind a server's `grpc.health.v1.Health` service
 * (gRPC doc/health-checking.md). The empty service name `""` stands for the
 * server as a whole.
 *
 * Every service registered on the server, and `""`, is SERVING unless set
 * otherwise with {@link HealthStatus.set}. Once the server starts draining
 * (`server.shutdown()`), every service reports NOT_SERVING, so load
 * balancers and orchestrators stop sending traffic during the grace period.
 */
export class HealthStatus {
  readonly #explicit = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<Listener>>();
  #draining = false;

  constructor(private readonly server: Server) {
    this.#draining = server.state !== "serving";
    server.onStateChange((state) => {
      if (state !== "draining" || this.#draining) return;
      const before = this.#snapshot();
      this.#draining = true;
      this.#notifyChanges(before);
    });
  }

  /**
   * Sets the status of `service` (a fully qualified name such as
   * `"shop.v1.CartService"`, or `""` for the whole server) and notifies
   * watchers. Ignored while draining: a draining server stays NOT_SERVING.
   */
  set(service: string, status: ServingStatus.SERVING | ServingStatus.NOT_SERVING): void {
    const before = this.get(service);
    this.#explicit.set(service, status);
    if (this.get(service) !== before) this.#notify(service);
  }

  /** The status of `service`, or `undefined` when the server does not know it. */
  get(service: string): ServingStatus | undefined {
    const known = service === "" || this.#explicit.has(service) || this.server.router.services().some((s) => s.typeName === service);
    if (!known) return undefined;
    if (this.#draining) return ServingStatus.NOT_SERVING;
    return this.#explicit.get(service) ?? ServingStatus.SERVING;
  }

  /** Subscribes to changes of `service`; returns the unsubscribe function. */
  watch(service: string, listener: Listener): () => void {
    let set = this.#watchers.get(service);
    if (set === undefined) this.#watchers.set(service, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#watchers.delete(service);
    };
  }

  #snapshot(): Map<string, ServingStatus | undefined> {
    return new Map([...this.#watchers.keys()].map((k) => [k, this.get(k)]));
  }

  #notifyChanges(before: Map<string, ServingStatus | undefined>): void {
    for (const [service, old] of before) if (this.get(service) !== old) this.#notify(service);
  }

  #notify(service: string): void {
    const status = this.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
    for (const l of this.#watchers.get(service) ?? []) l(status);
  }
}

/**
 * Adds the standard gRPC health service, `grpc.health.v1.Health`, to
 * `server` and returns the {@link HealthStatus} that drives it.
 *
 * - `Check(service)`: the current status; NOT_FOUND for an unknown service.
 * - `Watch(service)`: the current status at once (SERVICE_UNKNOWN for an
 *   unknown service, without failing), then each change, until the client
 *   cancels or the server stops.
 *
 * Works on every transport the server listens on. Every Ferry server gets it
 * when created (unless `createServer({ health: false })`); calling this again
 * returns the same {@link HealthStatus}.
 */
export function addHealthService(server: Server): HealthStatus {
  const existing = added.get(server) ?? server.health;
  if (existing !== undefined) return existing;
  const health = new HealthStatus(server);
  added.set(server, health);
  server.service(Health, {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) throw new FerryError(Code.NOT_FOUND, `unknown service "${req.service}"`);
      return { status };
    },
    watch: (req, ctx) => watch(health, req.service, ctx),
  });
  return health;
}

async function* watch(health: HealthStatus, service: string, ctx: CallContext): AsyncGenerator<{ status: ServingStatus }> {
  const queue = new AsyncQueue<ServingStatus>();
  const unsubscribe = health.watch(service, (s) => queue.push(s));
  const onAbort = () => queue.end();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    let last = health.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
    yield { status: last };
    for await (const status of queue) {
      if (status === last) continue;
      last = status;
      yield { status };
    }
  } finally {
    unsubscribe();
    ctx.signal.removeEventListener("abort", onAbort);
  }
}
