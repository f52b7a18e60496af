import { posix, relative, isAbsolute } from "node:path";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { ServiceDefinition } from "./service-definition.js";
import type { TopologyConfig, TopologyGroup } from "./topology-config.js";

/** Ports every generated pod uses: native (Ferry to Ferry), gRPC (other languages and the probes), HTTP, metrics. */
export const K8S_PORTS = { native: 50052, grpc: 50051, http: 8080, metrics: 9464 } as const;

/** How often a pod's DNS registry re-resolves the headless Services, in ms (the preStop delay covers it). */
export const K8S_DNS_INTERVAL_MS = 5_000;

/** Where the generated ConfigMap's topology is mounted in each pod. */
export const K8S_CONFIG_PATH = "/etc/ferry/topology.json";

/** Options of {@link kubernetesTopology}. */
export interface KubernetesTopologyOptions {
  /** Definitions of every service (which RPC services each provides). */
  definitions: ReadonlyMap<string, ServiceDefinition>;
  /** Directory module paths are made relative to (the project root the image copies). Default `process.cwd()`. */
  projectDir?: string;
  /** Where the image holds the compiled project (`.ts` modules become `.js` there). Default `/app`. */
  appDir?: string;
}

/** The headless Service name of a group: `<topology>-<group>`. */
export function k8sName(config: TopologyConfig, group: string): string {
  return `${config.name}-${group}`.slice(0, 63).replace(/-+$/, "");
}

/** A module path as the image sees it: relative to the project, under `appDir`, `.ts` → `.js`. Package names stay. */
function imageModule(spec: string, projectDir: string, appDir: string): string {
  if (!isAbsolute(spec)) return spec;
  const rel = relative(projectDir, spec).split("\\").join("/");
  if (rel.startsWith("../")) throw new FerryError(Code.INVALID_ARGUMENT, `module ${spec} is outside the project directory ${projectDir}, so it is not in the image`);
  return posix.join(appDir, rel.replace(/\.(m?)ts$/, ".$1js"));
}

/**
 * The DNS registry URL the pods discover each other with: each RPC service
 * maps to the headless Service of the group that runs it
 * (`dns:?transport=native&intervalMs=5000&shop.v1.InventoryService=shop-stock.shop.svc.cluster.local:50052`).
 * Raises INVALID_ARGUMENT when a service runs in several groups (one DNS name per service).
 */
export function dnsRegistryUrl(config: TopologyConfig, definitions: ReadonlyMap<string, ServiceDefinition>, namespace: string): string {
  const params = new URLSearchParams({ transport: "native", port: String(K8S_PORTS.native), intervalMs: String(K8S_DNS_INTERVAL_MS) });
  const owner = new Map<string, string>();
  for (const [group, g] of Object.entries(config.groups)) {
    for (const name of g.services) {
      for (const s of definitions.get(name)!.provides) {
        const other = owner.get(s.typeName);
        if (other !== undefined && other !== group) throw new FerryError(Code.INVALID_ARGUMENT, `${s.typeName} runs in groups ${other} and ${group}: Kubernetes DNS discovery maps each service to one group's headless Service`);
        owner.set(s.typeName, group);
        params.set(s.typeName, `${k8sName(config, group)}.${namespace}.svc.cluster.local:${K8S_PORTS.native}`);
      }
    }
  }
  return `dns:?${params.toString()}`;
}

function podGroup(g: TopologyGroup): TopologyGroup {
  const out: TopologyGroup = { ...g, listen: { native: `0.0.0.0:${K8S_PORTS.native}`, grpc: `0.0.0.0:${K8S_PORTS.grpc}` }, advertise: "${POD_IP}" };
  if (g.http !== undefined) out.http = { ...g.http, listen: `0.0.0.0:${K8S_PORTS.http}` };
  delete out.replicas;
  delete out.env;
  return out;
}

/**
 * The topology each pod runs (the generated ConfigMap): every group listens
 * on `0.0.0.0` at {@link K8S_PORTS} and advertises `${POD_IP}` (the Downward
 * API), services find each other through {@link dnsRegistryUrl} and the
 * groups' headless Services (when the topology's registry is `dns:` or
 * absent; another registry stays), module paths point into the image, and
 * `${VAR}` references stay for the pod's environment (Secrets) to fill.
 */
export function kubernetesTopology(config: TopologyConfig, options: KubernetesTopologyOptions): Record<string, unknown> {
  const namespace = config.kubernetes?.namespace ?? "default";
  const projectDir = options.projectDir ?? process.cwd();
  const appDir = options.appDir ?? "/app";
  const mod = (spec: string) => imageModule(spec, projectDir, appDir);
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, s]) => {
      if (s.definition !== undefined && s.module === undefined && config.module === undefined) {
        throw new FerryError(Code.INVALID_ARGUMENT, `services.${name}: a pod loads services from modules; give module (and export) instead of definition`);
      }
      const { definition: _definition, ...rest } = s;
      return [name, rest.module === undefined ? rest : { ...rest, module: mod(rest.module) }];
    }),
  );
  const out: Record<string, unknown> = {
    ...config,
    services,
    groups: Object.fromEntries(Object.entries(config.groups).map(([name, g]) => [name, podGroup(g)])),
  };
  // dns: (or none): the headless Services; a nats:// or etcd:// registry stays, each pod registering its advertised pod IP.
  if (config.registry === undefined || config.registry.startsWith("dns:")) {
    out.registry = dnsRegistryUrl(config, options.definitions, namespace);
    delete out.registrationTtlMs; // nothing registers with DNS
  }
  if (config.module !== undefined) out.module = mod(config.module);
  const sc = config.serviceConfig;
  if (sc !== undefined && "module" in sc && typeof sc.module === "string") out.serviceConfig = { ...sc, module: mod(sc.module) };
  if (config.telemetry !== undefined) out.telemetry = { ...config.telemetry, metricsPort: K8S_PORTS.metrics, metricsHost: "0.0.0.0" };
  delete out.kubernetes;
  return out;
}
