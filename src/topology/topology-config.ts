import type { ServiceDefinition } from "./service-definition.js";

/** The RPC transports a process group can listen on. */
export type TopologyTransport = "native" | "grpc";

/** Every {@link TopologyTransport}, in the order clients prefer them (native first: Ferry to Ferry). */
export const TOPOLOGY_TRANSPORTS: readonly TopologyTransport[] = ["native", "grpc"];

/**
 * One service of a topology: where its {@link ServiceDefinition} comes from
 * and its own settings.
 */
export interface TopologyService {
  /** The definition itself (the TypeScript form of a topology). */
  definition?: ServiceDefinition;
  /**
   * Module exporting the definition (the JSON/YAML form): a path relative to
   * the config file, or a package name. Default: the topology's `module`.
   */
  module?: string;
  /** Name of the export in `module`. Default: the service's key in `services`. */
  export?: string;
  /** Settings handed to the definition as `ctx.config` (JSON values). Default `{}`. */
  config?: Record<string, unknown>;
}

/** A value exported by a module: `export` (default `"default"`) of `module` (relative to the config file). */
export interface TopologyModuleRef {
  module: string;
  export?: string;
}

/** Listen or advertise addresses per transport: `"0.0.0.0:50052"`, `"[::]:0"`, `"10.0.0.5"`. */
export type TransportAddresses = Partial<Record<TopologyTransport, string>>;

/** The HTTP JSON API (the gateway) of a process group. */
export interface TopologyHttp {
  /** `HOST:PORT` to bind, e.g. `"0.0.0.0:8080"`; port 0 picks a free one. */
  listen: string;
  /** Names (keys of `services`) whose RPC services the API routes to. Default: every service of the topology. */
  services?: string[];
  /** Origins allowed to call the API from browsers (CORS). Default none. */
  corsOrigins?: string[];
}

/**
 * A process group: the services one OS process runs (a Kubernetes
 * Deployment; a systemd unit), and where it listens.
 */
export interface TopologyGroup {
  /** Keys of `services` this group runs; a service may run in several groups. At least one, unless `http` is set. */
  services: string[];
  /**
   * `HOST:PORT` per transport this group serves RPC on. Default
   * `{ native: "127.0.0.1:0" }` when the topology has several groups, none
   * with one group (its services call each other in-process).
   */
  listen?: TransportAddresses;
  /**
   * The address clients reach each listener at, as `HOST` or `HOST:PORT`,
   * per transport, or one host for all (registrations carry it). Default:
   * the listen host, or for a wildcard listen (`0.0.0.0`, `::`) the first
   * non-internal address of the machine. Strings may use `${VAR}` (e.g.
   * `${POD_IP}`, see {@link loadTopology}).
   */
  advertise?: string | TransportAddresses;
  /** Serve the HTTP JSON API (the gateway) from this group. */
  http?: TopologyHttp;
  /** How many processes run this group (`ferry run` without `--group`, Kubernetes replicas). Default 1. */
  replicas?: number;
  /** Environment variables of this group's processes (launcher, Kubernetes). */
  env?: Record<string, string>;
  /** This group's certificate and key when `security.tls` is on (each group its own identity). Default: `security.tls`'s. */
  tls?: TopologyTlsFiles;
}

/** Telemetry of every process (docs/observability.md); absent: none started. */
export interface TopologyTelemetry {
  /** Prometheus `/metrics` port; 0 picks a free one, `false` turns it off. Default 0. */
  metricsPort?: number | false;
  /** Interface the metrics endpoint binds. Default `"127.0.0.1"`. */
  metricsHost?: string;
  /** OTLP/HTTP endpoint for traces and metrics (sets `OTEL_EXPORTER_OTLP_ENDPOINT`), e.g. `http://collector:4318`. Default none. */
  otlpEndpoint?: string;
}

/** PEM files of a process's TLS credentials (paths may use `${VAR}`). */
export interface TopologyTlsFiles {
  /** Its certificate chain (server and client certificate: mTLS). */
  certFile: string;
  /** Its private key. */
  keyFile: string;
}

/** mTLS between process groups: every listener serves TLS and asks for client certificates; every channel presents the group's certificate. */
export interface TopologyTls extends TopologyTlsFiles {
  /** The CA that signs every group's certificate (servers and clients are checked against it). */
  caFile: string;
  /**
   * SPIFFE trust domain (`shop.local`): each group's certificate carries the
   * URI SAN `spiffe://<domain>/<group>`, and a client accepts a server only
   * if it presents the ID of a group that runs the service called. Default:
   * any certificate of the CA.
   */
  spiffeTrustDomain?: string;
}

/**
 * Who may call what (docs/security.md), enforced on every group's RPC
 * listeners and on its HTTP API; calls between services of one group stay
 * in-process and unchecked (one process trusts itself).
 */
export interface TopologySecurity {
  /**
   * mTLS between groups (`natives://`, `grpcs://`): callers are identified by
   * their certificate (policy rules with `services: ["spiffe://…/<group>"]`).
   * A group's own `tls` overrides `certFile` and `keyFile`.
   */
  tls?: TopologyTls;
  /** Bearer JWTs: a remote JWKS and the expected issuer and audience (RFC 8725 checks). */
  jwt?: { jwksUrl: string; issuer: string; audience: string };
  /** The authorization policy in `ferry/auth`'s JSON form (`{ rules: [...] }`; methods no rule covers are denied). Default: authenticated callers may call everything. */
  policy?: Record<string, unknown>;
}

/** Settings of `ferry k8s` (see {@link kubernetesManifests}). */
export interface TopologyKubernetes {
  /** Container image of every group, e.g. `"registry.example/shop:1.0.0"`. */
  image: string;
  /** Namespace of every object. Default `"default"`. */
  namespace?: string;
  /** The topology file inside the image or ConfigMap mount. Default `/etc/ferry/topology.json` (from the generated ConfigMap). */
  configPath?: string;
  /** Secret names whose keys become environment variables of every group (keys, passwords, broker URLs with credentials). Default none. */
  secrets?: string[];
  /** CPU and memory requests of each process, e.g. `{ cpu: "100m", memory: "128Mi" }`. Default that. */
  resources?: { cpu?: string; memory?: string };
}

/**
 * A topology: which services exist, which process group runs which, where
 * each group listens and what it advertises, and the shared infrastructure.
 * The same service implementations run in one process (one group, calls
 * in-process), in several processes on one machine, or on several hosts, by
 * changing this config only. Validated by {@link validateTopology}; the
 * JSON/YAML form is read by {@link loadTopology}; started by {@link runTopology}.
 */
export interface TopologyConfig {
  /** Application name (`[a-z][a-z0-9-]*`, at most 40): process and Kubernetes names, the telemetry service name. */
  name: string;
  /** Default module of every service's definition (relative to the config file). */
  module?: string;
  /** The services, by name (`[a-z][a-z0-9-]*`). */
  services: Record<string, TopologyService>;
  /** The process groups, by name (`[a-z][a-z0-9-]*`). */
  groups: Record<string, TopologyGroup>;
  /**
   * Registry URL (docs/discovery.md): `memory:` (default; one group only),
   * `nats://…`, `etcd://…`, `dns:…` or `static:…` (read-only: nothing registers).
   */
  registry?: string;
  /** Broker URL for events (docs/messaging.md). Default `memory:` (private to each process). */
  broker?: string;
  /** Store URL handed to services as `ctx.storeUrl` (`redis://…`, `postgres://…`, `pglite:`). Default none. */
  store?: string;
  /** Telemetry; absent: none started. */
  telemetry?: TopologyTelemetry;
  /**
   * Client-side service config (docs/resilience.md, gRPC's JSON form) of
   * every call a service makes, or a module exporting it (an object or a
   * function returning one), for policies with code such as a fallback.
   * Default none.
   */
  serviceConfig?: Record<string, unknown> | TopologyModuleRef;
  /** Authentication and authorization; absent: every method open to every caller. */
  security?: TopologySecurity;
  /** Registration TTL in milliseconds (heartbeat every third). Default 10,000. */
  registrationTtlMs?: number;
  /** How long a stopping process lets in-flight calls finish, in milliseconds (Kubernetes' grace period follows it). Default 5,000. */
  drainMs?: number;
  /** Settings of `ferry k8s`. */
  kubernetes?: TopologyKubernetes;
}
