import { hostname } from "node:os";
import type { DescService } from "@bufbuild/protobuf";
import { createGateway, type Gateway } from "../gateway/gateway.js";
import { createBroker, type Broker } from "../messaging/broker.js";
import { createRegistry } from "../registry/create-registry.js";
import type { Registration, ServiceRegistry } from "../registry/service-registry.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { ListeningAddress } from "../rpc/server-transport.js";
import { createServer, type Server } from "../rpc/server.js";
import { isWildcardHost, routableHost } from "../transport/advertised-url.js";
import { getDefaultLogger, type Logger } from "../util/logger.js";
import { GroupClients } from "./group-clients.js";
import { listenGroup } from "./group-listeners.js";
import { groupSecurity } from "./group-security.js";
import { resolveDefinitions, resolveServiceConfig } from "./resolve-definitions.js";
import type { ServiceContext, ServiceDefinition, StartedService } from "./service-definition.js";
import { parseHostPort } from "./topology-address.js";
import type { TopologyConfig } from "./topology-config.js";
import { validateTopology } from "./validate-topology.js";
import { startTelemetry, type Telemetry } from "./group-telemetry.js";

/** Default registration TTL of a topology's processes, in milliseconds. */
export const DEFAULT_REGISTRATION_TTL_MS = 10_000;
/** Default time a stopping process lets in-flight calls finish, in milliseconds. */
export const DEFAULT_DRAIN_MS = 5_000;

/** Options of {@link runTopology}. */
export interface RunTopologyOptions {
  /** The process group to start. Default: the only group (INVALID_ARGUMENT when there are several). */
  group?: string;
  /** Default: pino at `FERRY_LOG_LEVEL`. */
  logger?: Logger;
  /** Start the topology's `telemetry` (a process-wide OpenTelemetry SDK). Default true; tests running several groups in one process turn it off. */
  telemetry?: boolean;
  /** Registry instance id prefix of this process. Default `<topology>-<group>-<hostname>-<pid>`. */
  instanceId?: string;
}

/** A running process group. */
export interface RunningGroup {
  readonly topology: string;
  readonly group: string;
  /** The id this process registered its services under. */
  readonly instanceId: string;
  /** Names of the services this process runs. */
  readonly services: readonly string[];
  /** The RPC listeners: `url` advertised (what registrations carry), `listenUrl` bound. */
  readonly addresses: readonly ListeningAddress[];
  /** The HTTP API's URL, when the group serves one (for a wildcard bind, with the advertised host). */
  readonly httpUrl: string | undefined;
  /** The Prometheus endpoint, when telemetry started one. */
  readonly metricsUrl: string | undefined;
  /** The server hosting the group's services (its health service reports SERVING until close). */
  readonly server: Server;
  /**
   * Stops in the order that loses no call: the HTTP API stops accepting,
   * registrations are removed (callers move away), in-flight calls finish
   * (up to `graceMs`, default the topology's `drainMs`), then services,
   * clients, broker, registry and telemetry close. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

interface Parts {
  telemetry?: Telemetry;
  registry?: ServiceRegistry;
  server?: Server;
  internal?: Server;
  clients?: GroupClients;
  broker?: Promise<Broker>;
  started: StartedService[];
  registrations: Registration[];
  gateway?: Gateway;
}

function pickGroup(config: TopologyConfig, group: string | undefined): string {
  const names = Object.keys(config.groups);
  if (group === undefined) {
    if (names.length === 1) return names[0]!;
    throw new FerryError(Code.INVALID_ARGUMENT, `topology ${config.name} has ${names.length} process groups: choose one (${names.join(", ")})`);
  }
  if (!(group in config.groups)) throw new FerryError(Code.INVALID_ARGUMENT, `topology ${config.name} has no process group "${group}" (groups: ${names.join(", ")})`);
  return group;
}

/**
 * Starts one process group of a topology in this process: its services
 * (calling each other in-process, and the topology's other services through
 * the registry), its RPC listeners with their advertised addresses, its
 * registrations (not on the read-only `dns:` and `static:` registries), and
 * its HTTP API. The same config started with each group name, in as many
 * processes or on as many hosts, runs the whole topology.
 *
 * Raises INVALID_ARGUMENT for a bad topology or group name, NOT_FOUND for a
 * service module that cannot be loaded, UNAVAILABLE when the registry or
 * broker cannot be reached, and the listener's error (EADDRINUSE); what was
 * started is stopped first.
 */
export async function runTopology(config: TopologyConfig, options: RunTopologyOptions = {}): Promise<RunningGroup> {
  validateTopology(config);
  const group = pickGroup(config, options.group);
  const logger = options.logger ?? getDefaultLogger();
  const parts: Parts = { started: [], registrations: [] };
  try {
    return await start(config, group, logger, options, parts);
  } catch (err) {
    await stop(parts, 0);
    throw err;
  }
}

async function start(config: TopologyConfig, group: string, logger: Logger, options: RunTopologyOptions, parts: Parts): Promise<RunningGroup> {
  if (options.telemetry !== false && config.telemetry !== undefined) parts.telemetry = await startTelemetry(config.telemetry, `${config.name}-${group}`);
  const definitions = await resolveDefinitions(config);
  const names = config.groups[group]!.services;
  const local = new Set(names.flatMap((n) => definitions.get(n)!.provides.map((s) => s.typeName)));
  const registry = (parts.registry = await createRegistry(config.registry ?? "memory:", { logger }));
  const security = groupSecurity(config, group, serviceGroups(config, definitions));
  // With security, callers from outside reach `server` (checked); the group's services call each other on `internal`.
  const server = (parts.server = createServer({ logger, interceptors: security.server }));
  const internal = config.security === undefined ? server : (parts.internal = createServer({ logger, health: false }));
  const serviceConfig = await resolveServiceConfig(config);
  const clients = (parts.clients = new GroupClients({ server: internal, edgeServer: server, local, registry, serviceConfig, interceptors: security.client, tlsFor: security.clientTls, logger }));
  const broker = () => (parts.broker ??= createBroker(config.broker ?? `memory:${config.name}`, { logger }));
  for (const name of names) {
    const ctx: ServiceContext = {
      name,
      topology: config.name,
      group,
      config: config.services[name]!.config ?? {},
      logger: serviceLogger(logger, name),
      storeUrl: config.store,
      broker,
      client: (s) => clients.client(s),
    };
    const started = await definitions.get(name)!.start(ctx);
    parts.started.push(started);
    for (const target of new Set([server, internal])) serve(target, name, definitions.get(name)!, started);
  }
  const addresses = await listenGroup(server, config, group, security.serverTls);
  const instanceId = options.instanceId ?? `${config.name}-${group}-${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 200);
  await register(config, registry, local, addresses, instanceId, group, parts, logger);
  const httpUrl = await startHttp(config, group, definitions, clients, security.verifier, logger, parts);
  let closing: Promise<void> | undefined;
  return {
    topology: config.name,
    group,
    instanceId,
    services: names,
    addresses,
    httpUrl,
    metricsUrl: parts.telemetry?.metricsUrl,
    server,
    close: (graceMs = config.drainMs ?? DEFAULT_DRAIN_MS) => (closing ??= stop(parts, graceMs)),
  };
}

/** The groups running each RPC service, by its full name. */
function serviceGroups(config: TopologyConfig, definitions: ReadonlyMap<string, ServiceDefinition>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [group, g] of Object.entries(config.groups)) {
    for (const name of g.services) for (const s of definitions.get(name)!.provides) out.set(s.typeName, [...(out.get(s.typeName) ?? []), group]);
  }
  return out;
}

/** A pino child with `service` set when the logger is pino's; the logger itself otherwise. */
function serviceLogger(logger: Logger, service: string): Logger {
  const child = (logger as Logger & { child?: (bindings: object) => Logger }).child;
  return typeof child === "function" ? child.call(logger, { service }) : logger;
}

function serve(server: Server, name: string, definition: ServiceDefinition, started: StartedService): void {
  const provided = new Set(definition.provides.map((s) => s.typeName));
  for (const { service, impl } of started.implementations) {
    if (!provided.has(service.typeName)) throw new FerryError(Code.INVALID_ARGUMENT, `service ${name} implements ${service.typeName}, which its definition does not list in provides`);
    server.service(service, impl);
  }
  const missing = [...provided].filter((t) => !started.implementations.some((b) => b.service.typeName === t));
  if (missing.length > 0) throw new FerryError(Code.INVALID_ARGUMENT, `service ${name} provides ${missing.join(", ")} but started no implementation of it`);
}

async function register(config: TopologyConfig, registry: ServiceRegistry, local: ReadonlySet<string>, addresses: readonly ListeningAddress[], instanceId: string, group: string, parts: Parts, logger: Logger): Promise<void> {
  if (registry.kind === "dns" || registry.kind === "static" || addresses.length === 0) return;
  const endpoints = addresses.map((a) => ({ transport: a.transport, url: a.url }));
  const ttlMs = config.registrationTtlMs ?? DEFAULT_REGISTRATION_TTL_MS;
  for (const service of local) {
    const metadata = { topology: config.name, group };
    const onError = (err: FerryError) => logger.warn({ err, service }, "registry heartbeat failed; retrying");
    parts.registrations.push(await registry.register({ service, instanceId, endpoints, metadata }, { ttlMs, onError }));
  }
}

async function startHttp(
  config: TopologyConfig,
  group: string,
  definitions: ReadonlyMap<string, ServiceDefinition>,
  clients: GroupClients,
  verifier: ReturnType<typeof groupSecurity>["verifier"],
  logger: Logger,
  parts: Parts,
): Promise<string | undefined> {
  const http = config.groups[group]!.http;
  if (http === undefined) return undefined;
  const byName = new Map<string, DescService>();
  for (const name of http.services ?? Object.keys(config.services)) for (const s of definitions.get(name)!.provides) byName.set(s.typeName, s);
  const services = [...byName.values()];
  const cors = http.corsOrigins !== undefined && http.corsOrigins.length > 0 ? { origins: http.corsOrigins } : undefined;
  const gateway = (parts.gateway = createGateway({ services, transport: clients.router(services), logger, verifier, cors }));
  const { host, port } = parseHostPort(http.listen)!;
  const url = new URL(await gateway.listen(port!, host));
  if (!isWildcardHost(host)) return url.href.replace(/\/$/, "");
  // Bound to every interface: show the address clients use, as the RPC listeners do.
  const advertise = config.groups[group]!.advertise;
  const shown = typeof advertise === "string" ? advertise : routableHost();
  url.hostname = shown.includes(":") ? `[${shown}]` : shown;
  return url.href.replace(/\/$/, "");
}

async function stop(parts: Parts, graceMs: number): Promise<void> {
  await parts.gateway?.close();
  await Promise.all(parts.registrations.map((r) => r.close().catch(() => undefined)));
  await parts.server?.shutdown(graceMs);
  await parts.internal?.shutdown(graceMs);
  for (const s of parts.started.reverse()) await s.close?.();
  await parts.clients?.close();
  const broker = await parts.broker?.catch(() => undefined);
  await broker?.close();
  await parts.registry?.close();
  await parts.telemetry?.shutdown();
}
