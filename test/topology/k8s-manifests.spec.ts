/**
 * `ferry k8s`: the shop's manifests validate against the Kubernetes JSON
 * schemas (shipped, compiled, by kubernetes-models), say what Ferry needs
 * (gRPC health probes, drain timing, headless Services, the pod IP
 * advertised), and the committed deploy/k8s/shop matches the generator.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Deployment } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { Code } from "../../src/index.js";
import { kubernetesManifests, PRE_STOP_SECONDS, type KubernetesObject } from "../../src/topology/k8s-manifests.js";
import { K8S_PORTS } from "../../src/topology/k8s-topology.js";
import { resolveDefinitions } from "../../src/topology/resolve-definitions.js";
import { loadTopology } from "../../src/topology/index.js";

const SHOP = "examples/shop/topology/kubernetes.yaml";
const config = await loadTopology(SHOP, { env: {} });
const definitions = await resolveDefinitions(config);
const { objects, secretExample } = kubernetesManifests(config, { definitions });
const models: Record<string, new (data: never) => { validate(): void }> = { Deployment, Service, PodDisruptionBudget, ConfigMap, Secret };
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind) as Array<KubernetesObject & { spec: any }>;

describe("ferry k8s: the shop's manifests", () => {
  it("validate against the Kubernetes schemas, every object", () => {
    for (const o of [...objects, secretExample!]) {
      const Model = models[o.kind];
      expect(Model, o.kind).toBeDefined();
      expect(() => new Model!(o as never).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/shop-topology",
      ...["stock", "checkout", "edge"].flatMap((g) => [`Deployment/shop-${g}`, `Service/shop-${g}`, ...(g === "edge" ? ["Service/shop-edge-http"] : []), `PodDisruptionBudget/shop-${g}`]),
    ]);
  });

  it("the schemas catch a broken manifest (the validator is not a no-op)", () => {
    const broken = structuredClone(ofKind("Deployment")[0]!);
    broken.spec.template.spec.containers[0].readinessProbe.grpc = { port: "grpc" };
    expect(() => new Deployment(broken as never).validate()).toThrow(/port must be integer/);
  });

  it("one Deployment per group: gRPC health probes, preStop then Ferry's drain within the grace period, non-root", () => {
    for (const d of ofKind("Deployment")) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(d.spec.replicas).toBe(2);
      expect(c.args).toEqual(["run", "/etc/ferry/topology.json", "--group", c.name]);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) expect(probe.grpc).toEqual({ port: K8S_PORTS.grpc });
      expect(c.ports).toContainEqual({ name: "grpc", containerPort: K8S_PORTS.grpc, protocol: "TCP" });
      expect(c.lifecycle.preStop.exec.command).toEqual(["sleep", String(PRE_STOP_SECONDS)]);
      expect(pod.terminationGracePeriodSeconds).toBe(PRE_STOP_SECONDS + config.drainMs! / 1000 + 5);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(c.env).toContainEqual({ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });
      expect(c.envFrom).toEqual([{ secretRef: { name: "shop-env" } }]);
    }
    for (const s of ofKind("Service").filter((s) => !s.metadata.name.endsWith("-http"))) expect(s.spec.clusterIP).toBe("None");
    for (const p of ofKind("PodDisruptionBudget")) expect(p.spec.maxUnavailable).toBe(1);
    expect(secretExample!.stringData).toEqual({ NATS_URL: "", SHOP_STORE: "" });
  });

  it("the ConfigMap's topology runs in a pod: binds 0.0.0.0, advertises the pod IP, finds services through the headless Services", async () => {
    const json = (ofKind("ConfigMap")[0] as unknown as { data: Record<string, string> }).data["topology.json"]!;
    const file = join(mkdtempSync(join(tmpdir(), "ferry-k8s-")), "topology.json");
    writeFileSync(file, json);
    const pod = await loadTopology(file, { env: { POD_IP: "10.1.2.3", NATS_URL: "nats://nats.shop:4222", SHOP_STORE: "postgres://shop@db/shop" } });
    expect(pod.groups.checkout).toMatchObject({ listen: { native: "0.0.0.0:50052", grpc: "0.0.0.0:50051" }, advertise: "10.1.2.3" });
    expect(pod.module).toBe("/app/examples/shop/topology/shop-services.js");
    const registry = new URL(pod.registry!);
    expect(registry.protocol).toBe("dns:");
    expect(registry.searchParams.get("shop.v1.OrderService")).toBe("shop-checkout.shop.svc.cluster.local:50052");
    expect([...registry.searchParams.keys()].filter((k) => k.startsWith("shop.v1.")).sort()).toHaveLength(6);
    expect(pod.broker).toBe("nats://nats.shop:4222");
  });

  it("refuses a topology without a kubernetes section, and a service in two groups under DNS discovery", () => {
    const { kubernetes: _k, ...bare } = config;
    expect(() => kubernetesManifests(bare, { definitions })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    const twice = { ...config, groups: { ...config.groups, extra: { services: ["inventory"] } } };
    expect(() => kubernetesManifests(twice, { definitions })).toThrow(/shop\.v1\.InventoryService runs in groups stock and extra/);
  });

  it("deploy/k8s/shop is what `ferry k8s -o` writes today", async () => {
    const out = mkdtempSync(join(tmpdir(), "ferry-k8s-out-"));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errors = "";
    stderr.on("data", (d: Buffer) => (errors += d.toString()));
    const status = await runCli(["k8s", SHOP, "-o", out], { stdout, stderr, stdin: new PassThrough() });
    expect(errors).toBe("");
    expect(status).toBe(0);
    const committed = readdirSync("deploy/k8s/shop").sort();
    expect(readdirSync(out).sort()).toEqual(committed);
    for (const f of committed) expect(readFileSync(join(out, f), "utf8"), `deploy/k8s/shop/${f} is stale: npm run ferry -- k8s ${SHOP} -o deploy/k8s/shop`).toBe(readFileSync(join("deploy/k8s/shop", f), "utf8"));
  });
});

describe("Dockerfile", () => {
  const text = readFileSync("Dockerfile", "utf8");
  const stages = text.split(/^FROM /m).slice(1);

  it("is multi-stage; the runtime stage has production dependencies only and runs as a non-root user", () => {
    expect(stages).toHaveLength(3);
    const runtime = stages[2]!;
    expect(runtime).not.toMatch(/npm (ci|install)/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "src\/cli\/main\.js"\]$/m);
    expect(stages[1]).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=deps \/app\/node_modules node_modules/);
    for (const port of Object.values(K8S_PORTS)) expect(runtime).toContain(String(port));
  });
});
