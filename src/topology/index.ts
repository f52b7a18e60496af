/**
 * `ferry/topology`: one config from which the same services run in one
 * process, in several processes, on several hosts or on Kubernetes. See
 * docs/deployment.md.
 */
export type { TopologyConfig, TopologyGroup, TopologyHttp, TopologyKubernetes, TopologyModuleRef, TopologySecurity, TopologyTls, TopologyTlsFiles, TopologyService, TopologyTelemetry, TopologyTransport, TransportAddresses } from "./topology-config.js";
export { TOPOLOGY_TRANSPORTS } from "./topology-config.js";
export { defineService, implement, isServiceDefinition, type ServiceBinding, type ServiceContext, type ServiceDefinition, type StartedService } from "./service-definition.js";
export { topologyError, validateTopology } from "./validate-topology.js";
export { interpolateTopology, loadTopology, type LoadTopologyOptions } from "./load-topology.js";
export { DEFAULT_DRAIN_MS, DEFAULT_REGISTRATION_TTL_MS, runTopology, type RunningGroup, type RunTopologyOptions } from "./run-topology.js";
export { GroupClients, INSTANCE_FAULT_CODES, type GroupClientsOptions } from "./group-clients.js";
export { DEFAULT_GROUP_LISTEN } from "./group-listeners.js";
export { isWildcardHost, routableHost, type AdvertiseOptions } from "../transport/advertised-url.js";
export { spawnGroup, type GroupProcess, type SpawnGroupOptions } from "./spawn-group.js";
export { formatReady, parseReady, READY_PREFIX, type GroupReady } from "./ready-line.js";
export { kubernetesManifests, deferredVariables, PRE_STOP_SECONDS, type KubernetesManifests, type KubernetesObject } from "./k8s-manifests.js";
export { dnsRegistryUrl, K8S_CONFIG_PATH, K8S_DNS_INTERVAL_MS, K8S_PORTS, kubernetesTopology, type KubernetesTopologyOptions } from "./k8s-topology.js";
export { resolveDefinitions, resolveServiceConfig } from "./resolve-definitions.js";
