import { parseAuthorizationPolicy } from "../auth/authorization-policy.js";
import { parseServiceConfig } from "../resilience/service-config.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { isWildcardHost } from "../transport/advertised-url.js";
import { isServiceDefinition } from "./service-definition.js";
import { parseHostPort } from "./topology-address.js";
import { TOPOLOGY_TRANSPORTS, type TopologyConfig, type TopologyGroup } from "./topology-config.js";

const NAME = /^[a-z][a-z0-9-]{0,39}$/;
const TOP_KEYS = ["name", "module", "services", "groups", "registry", "broker", "store", "telemetry", "serviceConfig", "security", "registrationTtlMs", "drainMs", "kubernetes"];
const SERVICE_KEYS = ["definition", "module", "export", "config"];
const GROUP_KEYS = ["services", "listen", "advertise", "http", "replicas", "env", "tls"];
const READ_ONLY_REGISTRIES = new Set(["dns:", "static:"]);

type Obj = Record<string, unknown>;

/**
 * True for a string that still holds a `${VAR}` reference (written `$${VAR}`
 * in a file): it is resolved where the topology runs (a pod's environment),
 * so its format is checked there.
 */
export function deferred(s: string): boolean {
  return /\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/.test(s);
}

/** The INVALID_ARGUMENT error of a bad topology: `invalid topology: groups.web.services[1]: unknown service "carts"`. */
export function topologyError(path: string, message: string, source?: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `invalid topology${source === undefined ? "" : ` ${source}`}: ${path === "" ? "" : `${path}: `}${message}`);
}

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Checker {
  constructor(readonly source: string | undefined) {}

  fail(path: string, message: string): never {
    throw topologyError(path, message, this.source);
  }

  object(v: unknown, path: string, keys: readonly string[]): Obj {
    if (!isObject(v)) this.fail(path, "must be an object");
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.fail(path === "" ? k : `${path}.${k}`, `is not a known field (expected one of ${keys.join(", ")})`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== "string" || v === "") this.fail(path, "must be a non-empty string");
    return v;
  }

  strings(v: unknown, path: string): string[] {
    if (!Array.isArray(v)) this.fail(path, "must be a list of strings");
    return v.map((s, i) => this.string(s, `${path}[${i}]`));
  }

  name(v: unknown, path: string): string {
    if (typeof v !== "string" || !NAME.test(v)) this.fail(path, `${JSON.stringify(v)} must match [a-z][a-z0-9-]* (at most 40 characters)`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) this.fail(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  }

  url(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (!URL.canParse(s) && !deferred(s)) this.fail(path, `${JSON.stringify(s)} is not a URL`);
    return s;
  }

  address(v: unknown, path: string, mode: "listen" | "advertise"): void {
    const s = this.string(v, path);
    if (deferred(s)) return;
    const hp = parseHostPort(s);
    if (hp === undefined) this.fail(path, `${JSON.stringify(s)} must be HOST:PORT, [IPV6]:PORT${mode === "advertise" ? " or HOST" : ""}`);
    if (mode === "listen" && hp.port === undefined) this.fail(path, `${JSON.stringify(s)} needs a port (0 picks a free one)`);
    if (mode === "advertise" && isWildcardHost(hp.host)) this.fail(path, `${JSON.stringify(s)} is a wildcard: advertise a host name or address clients can reach`);
    if (mode === "advertise" && hp.port === 0) this.fail(path, "an advertised port cannot be 0");
  }
}

function registryScheme(v: unknown): string {
  return typeof v === "string" && URL.canParse(v) ? new URL(v).protocol : "memory:";
}

function checkServices(c: Checker, v: unknown, defaultModule: string | undefined): Obj {
  const services = c.object(v, "services", Object.keys(isObject(v) ? v : {}));
  if (Object.keys(services).length === 0) c.fail("services", "needs at least one service");
  for (const [name, entry] of Object.entries(services)) {
    const path = `services.${name}`;
    c.name(name, path);
    const s = c.object(entry ?? {}, path, SERVICE_KEYS);
    if (s.definition !== undefined && !isServiceDefinition(s.definition)) c.fail(`${path}.definition`, "must be a service definition ({ provides, start }, see defineService)");
    if (s.module !== undefined) c.string(s.module, `${path}.module`);
    if (s.export !== undefined) c.string(s.export, `${path}.export`);
    if (s.config !== undefined) c.object(s.config, `${path}.config`, Object.keys(isObject(s.config) ? s.config : {}));
    if (s.definition === undefined && s.module === undefined && defaultModule === undefined) c.fail(path, "needs a definition, or a module (its own or the topology's `module`)");
  }
  return services;
}

function checkAddresses(c: Checker, v: unknown, path: string, mode: "listen" | "advertise"): void {
  if (mode === "advertise" && typeof v === "string") {
    c.address(v, path, mode);
    if (parseHostPort(v)?.port !== undefined) c.fail(path, `${JSON.stringify(v)}: one host for every transport takes no port; give { native: "HOST:PORT", grpc: "HOST:PORT" } instead`);
    return;
  }
  const map = c.object(v, path, TOPOLOGY_TRANSPORTS);
  for (const [t, a] of Object.entries(map)) c.address(a, `${path}.${t}`, mode);
}

function checkHttp(c: Checker, v: unknown, path: string, services: Obj): void {
  const http = c.object(v, path, ["listen", "services", "corsOrigins"]);
  c.address(http.listen, `${path}.listen`, "listen");
  if (http.services !== undefined) c.strings(http.services, `${path}.services`).forEach((s, i) => known(c, s, `${path}.services[${i}]`, services));
  if (http.corsOrigins !== undefined) c.strings(http.corsOrigins, `${path}.corsOrigins`);
}

function known(c: Checker, name: string, path: string, services: Obj): void {
  if (!(name in services)) c.fail(path, `unknown service ${JSON.stringify(name)} (known: ${Object.keys(services).join(", ")})`);
}

function checkGroup(c: Checker, name: string, v: unknown, services: Obj, placed: Set<string>): void {
  const path = `groups.${name}`;
  c.name(name, path);
  const g = c.object(v, path, GROUP_KEYS) as Partial<Record<keyof TopologyGroup, unknown>>;
  const list = c.strings(g.services ?? [], `${path}.services`);
  list.forEach((s, i) => {
    known(c, s, `${path}.services[${i}]`, services);
    if (list.indexOf(s) !== i) c.fail(`${path}.services[${i}]`, `${JSON.stringify(s)} is listed twice`);
    placed.add(s);
  });
  if (list.length === 0 && g.http === undefined) c.fail(`${path}.services`, "needs at least one service (or an http API)");
  if (g.listen !== undefined) checkAddresses(c, g.listen, `${path}.listen`, "listen");
  if (g.advertise !== undefined) checkAddresses(c, g.advertise, `${path}.advertise`, "advertise");
  if (g.http !== undefined) checkHttp(c, g.http, `${path}.http`, services);
  if (g.replicas !== undefined) c.int(g.replicas, `${path}.replicas`, 1, 1000);
  if (g.tls !== undefined) {
    const tls = c.object(g.tls, `${path}.tls`, ["certFile", "keyFile"]);
    c.string(tls.certFile, `${path}.tls.certFile`);
    c.string(tls.keyFile, `${path}.tls.keyFile`);
  }
  if (g.env !== undefined) for (const [k, val] of Object.entries(c.object(g.env, `${path}.env`, Object.keys(isObject(g.env) ? g.env : {})))) c.string(val, `${path}.env.${k}`);
}

function checkInfrastructure(c: Checker, t: Obj, groupCount: number): void {
  if (t.registry !== undefined) c.url(t.registry, "registry");
  if (t.broker !== undefined) c.url(t.broker, "broker");
  if (t.store !== undefined) c.url(t.store, "store");
  if (groupCount > 1 && registryScheme(t.registry) === "memory:" && !(typeof t.registry === "string" && deferred(t.registry))) c.fail("registry", "several process groups need a shared registry (nats://, etcd://, dns: or static:); memory: is private to one process");
  if (t.registrationTtlMs !== undefined) c.int(t.registrationTtlMs, "registrationTtlMs", 100, 86_400_000);
  if (t.drainMs !== undefined) c.int(t.drainMs, "drainMs", 0, 600_000);
  if (t.telemetry !== undefined) {
    const tel = c.object(t.telemetry, "telemetry", ["metricsPort", "metricsHost", "otlpEndpoint"]);
    if (tel.metricsPort !== undefined && tel.metricsPort !== false) c.int(tel.metricsPort, "telemetry.metricsPort", 0, 65535);
    if (tel.metricsHost !== undefined) c.string(tel.metricsHost, "telemetry.metricsHost");
    if (tel.otlpEndpoint !== undefined) c.url(tel.otlpEndpoint, "telemetry.otlpEndpoint");
  }
}

function checkPolicies(c: Checker, t: Obj): void {
  const wrap = (path: string, fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      c.fail(path, (err as FerryError).rawMessage ?? (err as Error).message);
    }
  };
  if (isObject(t.serviceConfig) && "module" in t.serviceConfig) {
    const ref = c.object(t.serviceConfig, "serviceConfig", ["module", "export"]);
    c.string(ref.module, "serviceConfig.module");
    if (ref.export !== undefined) c.string(ref.export, "serviceConfig.export");
  } else if (t.serviceConfig !== undefined) wrap("serviceConfig", () => parseServiceConfig(t.serviceConfig));
  if (t.security !== undefined) {
    const sec = c.object(t.security, "security", ["jwt", "policy", "tls"]);
    if (sec.tls !== undefined) {
      const tls = c.object(sec.tls, "security.tls", ["caFile", "certFile", "keyFile", "spiffeTrustDomain"]);
      for (const k of ["caFile", "certFile", "keyFile"]) c.string(tls[k], `security.tls.${k}`);
      if (tls.spiffeTrustDomain !== undefined && !/^[a-z0-9.-]+$/.test(c.string(tls.spiffeTrustDomain, "security.tls.spiffeTrustDomain"))) {
        c.fail("security.tls.spiffeTrustDomain", "must be a trust domain name ([a-z0-9.-], e.g. shop.local)");
      }
    }
    if (sec.jwt !== undefined) {
      const jwt = c.object(sec.jwt, "security.jwt", ["jwksUrl", "issuer", "audience"]);
      c.url(jwt.jwksUrl, "security.jwt.jwksUrl");
      c.string(jwt.issuer, "security.jwt.issuer");
      c.string(jwt.audience, "security.jwt.audience");
    }
    if (sec.policy !== undefined) wrap("security.policy", () => parseAuthorizationPolicy(sec.policy));
  }
  if (t.kubernetes !== undefined) {
    const k = c.object(t.kubernetes, "kubernetes", ["image", "namespace", "configPath", "secrets", "resources"]);
    c.string(k.image, "kubernetes.image");
    if (k.namespace !== undefined) c.name(k.namespace, "kubernetes.namespace");
    if (k.configPath !== undefined && !c.string(k.configPath, "kubernetes.configPath").startsWith("/")) c.fail("kubernetes.configPath", "must be an absolute path");
    if (k.secrets !== undefined) c.strings(k.secrets, "kubernetes.secrets").forEach((s, i) => c.name(s, `kubernetes.secrets[${i}]`));
    if (k.resources !== undefined) {
      const r = c.object(k.resources, "kubernetes.resources", ["cpu", "memory"]);
      for (const key of ["cpu", "memory"] as const) if (r[key] !== undefined) c.string(r[key], `kubernetes.resources.${key}`);
    }
  }
}

/**
 * Checks a topology (the TypeScript object, or the parsed JSON/YAML form)
 * and returns it typed. Raises INVALID_ARGUMENT naming the first bad path
 * (`invalid topology shop.yaml: groups.web.services[1]: unknown service "carts" (known: …)`):
 * unknown fields, bad names, unknown or unplaced services, addresses that are
 * not `HOST:PORT` (or advertise a wildcard), several groups on a `memory:`
 * registry, and service configs or authorization policies their own parsers refuse.
 *
 * @param source named in the error (the config file)
 */
export function validateTopology(input: unknown, source?: string): TopologyConfig {
  const c = new Checker(source);
  const t = c.object(input, "", TOP_KEYS);
  c.name(t.name, "name");
  if (t.module !== undefined) c.string(t.module, "module");
  const services = checkServices(c, t.services, t.module as string | undefined);
  const groups = c.object(t.groups, "groups", Object.keys(isObject(t.groups) ? t.groups : {}));
  if (Object.keys(groups).length === 0) c.fail("groups", "needs at least one process group");
  const placed = new Set<string>();
  for (const [name, g] of Object.entries(groups)) checkGroup(c, name, g, services, placed);
  for (const s of Object.keys(services)) if (!placed.has(s)) c.fail(`services.${s}`, "runs in no group: list it in some groups.<name>.services");
  checkInfrastructure(c, t, Object.keys(groups).length);
  if (READ_ONLY_REGISTRIES.has(registryScheme(t.registry)) && t.registrationTtlMs !== undefined) {
    c.fail("registrationTtlMs", `the ${registryScheme(t.registry)} registry is read-only: nothing registers, so a TTL has no effect`);
  }
  checkPolicies(c, t);
  return input as TopologyConfig;
}
