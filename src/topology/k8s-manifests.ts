import { createHash } from "node:crypto";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { DEFAULT_DRAIN_MS } from "./run-topology.js";
import { K8S_CONFIG_PATH, K8S_DNS_INTERVAL_MS, K8S_PORTS, k8sName, kubernetesTopology, type KubernetesTopologyOptions } from "./k8s-topology.js";
import type { TopologyConfig, TopologyGroup } from "./topology-config.js";

/** A Kubernetes object as plain JSON. */
export type KubernetesObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

/** What {@link kubernetesManifests} generates. */
export interface KubernetesManifests {
  /** The ConfigMap with the pods' topology, then per group a Deployment, a headless Service, an HTTP Service (with `http`) and a PodDisruptionBudget. */
  readonly objects: readonly KubernetesObject[];
  /** A Secret to fill in for the `${VAR}` references the pods resolve (none: `undefined`). Not applied as is: its values are empty. */
  readonly secretExample: KubernetesObject | undefined;
}

/** Seconds a pod waits in preStop before Ferry drains: clients' DNS registries re-resolve within {@link K8S_DNS_INTERVAL_MS}. */
export const PRE_STOP_SECONDS = Math.ceil(K8S_DNS_INTERVAL_MS / 1000) + 1;

const DEFERRED = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g;

/** Names of the `${VAR}` references without a default left in `value` (resolved in the pod). */
export function deferredVariables(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    for (const m of value.matchAll(DEFERRED)) if (m[2] === undefined && m[1] !== "POD_IP") out.add(m[1]!);
  } else if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deferredVariables(v, out);
  }
  return out;
}

function labels(config: TopologyConfig, group?: string): Record<string, string> {
  return { "app.kubernetes.io/name": config.name, "app.kubernetes.io/part-of": config.name, "app.kubernetes.io/managed-by": "ferry", ...(group === undefined ? {} : { "app.kubernetes.io/component": group }) };
}

function meta(config: TopologyConfig, name: string, group?: string) {
  return { name, namespace: config.kubernetes?.namespace ?? "default", labels: labels(config, group) };
}

function selector(config: TopologyConfig, group: string) {
  return { "app.kubernetes.io/name": config.name, "app.kubernetes.io/component": group };
}

function ports(config: TopologyConfig, g: TopologyGroup) {
  return [
    { name: "native", containerPort: K8S_PORTS.native, protocol: "TCP" },
    { name: "grpc", containerPort: K8S_PORTS.grpc, protocol: "TCP" },
    ...(g.http === undefined ? [] : [{ name: "http", containerPort: K8S_PORTS.http, protocol: "TCP" }]),
    ...(config.telemetry === undefined ? [] : [{ name: "metrics", containerPort: K8S_PORTS.metrics, protocol: "TCP" }]),
  ];
}

/** Readiness, liveness and startup through grpc.health.v1 (Kubernetes' gRPC probes), which Ferry answers NOT_SERVING once it drains. */
function probes() {
  const grpc = { port: K8S_PORTS.grpc };
  return {
    readinessProbe: { grpc, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    livenessProbe: { grpc, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    startupProbe: { grpc, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 60 },
  };
}

function container(config: TopologyConfig, group: string, g: TopologyGroup, envFrom: string[]) {
  const res = config.kubernetes?.resources ?? {};
  return {
    name: group,
    image: config.kubernetes!.image,
    args: ["run", config.kubernetes?.configPath ?? K8S_CONFIG_PATH, "--group", group],
    ports: ports(config, g),
    env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }, ...Object.entries(g.env ?? {}).map(([name, value]) => ({ name, value }))],
    envFrom: envFrom.map((name) => ({ secretRef: { name } })),
    ...probes(),
    // Kubernetes removes a terminating pod from its Service at once; the sleep lets every client's DNS registry notice before Ferry stops accepting.
    lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SECONDS)] } } },
    resources: { requests: { cpu: res.cpu ?? "100m", memory: res.memory ?? "128Mi" }, limits: { memory: res.memory ?? "128Mi" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
    volumeMounts: [
      { name: "topology", mountPath: "/etc/ferry", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
}

function deployment(config: TopologyConfig, group: string, g: TopologyGroup, envFrom: string[], configHash: string): KubernetesObject {
  const grace = PRE_STOP_SECONDS + Math.ceil((config.drainMs ?? DEFAULT_DRAIN_MS) / 1000) + 5;
  const annotations: Record<string, string> = { "ferry.dev/topology-sha256": configHash };
  if (config.telemetry !== undefined) Object.assign(annotations, { "prometheus.io/scrape": "true", "prometheus.io/port": String(K8S_PORTS.metrics) });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(config, k8sName(config, group), group),
    spec: {
      replicas: g.replicas ?? 1,
      selector: { matchLabels: selector(config, group) },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels(config, group), annotations },
        spec: {
          terminationGracePeriodSeconds: grace,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [container(config, group, g, envFrom)],
          volumes: [
            { name: "topology", configMap: { name: `${config.name}-topology` } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}

function services(config: TopologyConfig, group: string, g: TopologyGroup): KubernetesObject[] {
  const headless: KubernetesObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(config, k8sName(config, group), group),
    spec: {
      clusterIP: "None", // headless: DNS answers with every ready pod's IP, which Ferry's dns: registry balances over
      selector: selector(config, group),
      ports: [
        { name: "native", port: K8S_PORTS.native, targetPort: "native", protocol: "TCP" },
        { name: "grpc", port: K8S_PORTS.grpc, targetPort: "grpc", protocol: "TCP" },
      ],
    },
  };
  if (g.http === undefined) return [headless];
  const http: KubernetesObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(config, `${k8sName(config, group)}-http`, group),
    spec: { type: "ClusterIP", selector: selector(config, group), ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
  };
  return [headless, http];
}

function disruptionBudget(config: TopologyConfig, group: string): KubernetesObject {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta(config, k8sName(config, group), group), spec: { maxUnavailable: 1, selector: { matchLabels: selector(config, group) } } };
}

/**
 * Kubernetes manifests for a topology (`ferry k8s`): a ConfigMap with the
 * topology the pods run ({@link kubernetesTopology}: bind `0.0.0.0`,
 * advertise the pod IP, discovery through headless Services and DNS), and per
 * process group a Deployment (replicas; gRPC health probes; preStop sleep so
 * clients stop picking the pod, then SIGTERM starts Ferry's drain, within
 * `terminationGracePeriodSeconds` = preStop + `drainMs` + 5 s; non-root,
 * read-only root filesystem), a headless Service, a ClusterIP Service for
 * the HTTP API, and a PodDisruptionBudget (one pod down at a time).
 * `kubernetes.secrets` and the generated `<name>-env` Secret (for `${VAR}`
 * references left in the topology) become environment variables.
 *
 * Raises INVALID_ARGUMENT without `kubernetes.image`, for a service running
 * in several groups, or a module outside the project directory.
 */
export function kubernetesManifests(config: TopologyConfig, options: KubernetesTopologyOptions): KubernetesManifests {
  if (config.kubernetes === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `topology ${config.name} has no kubernetes section: set kubernetes.image (and namespace)`);
  const topology = kubernetesTopology(config, options);
  const json = `${JSON.stringify(topology, null, 2)}\n`;
  const hash = createHash("sha256").update(json).digest("hex").slice(0, 16);
  const variables = [...deferredVariables(topology)].sort();
  const envName = `${config.name}-env`;
  const envFrom = [...(config.kubernetes.secrets ?? []), ...(variables.length > 0 ? [envName] : [])];
  const configMap: KubernetesObject = { apiVersion: "v1", kind: "ConfigMap", metadata: meta(config, `${config.name}-topology`), data: { "topology.json": json } };
  const objects: KubernetesObject[] = [configMap];
  for (const [group, g] of Object.entries(config.groups)) objects.push(deployment(config, group, g, envFrom, hash), ...services(config, group, g), disruptionBudget(config, group));
  const secretExample: KubernetesObject | undefined =
    variables.length === 0 ? undefined : { apiVersion: "v1", kind: "Secret", metadata: meta(config, envName), type: "Opaque", stringData: Object.fromEntries(variables.map((v) => [v, ""])) };
  return { objects, secretExample };
}
