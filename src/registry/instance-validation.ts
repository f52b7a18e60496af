import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { InstanceEndpoint, RegisterOptions, ServiceInstance, ServiceInstanceInit } from "./service-registry.js";

/** Default registration TTL in milliseconds. */
export const DEFAULT_TTL_MS = 10_000;
/** Smallest accepted registration TTL in milliseconds. */
export const MIN_TTL_MS = 100;
/** Default bound on one encoded instance (JSON), in bytes. */
export const DEFAULT_MAX_INSTANCE_BYTES = 16_384;
/** Most endpoints one instance may register. */
export const MAX_ENDPOINTS = 64;

const NAME = /^[A-Za-z0-9_.-]{1,255}$/;
const TRANSPORT = /^[a-z][a-z0-9+.-]{0,31}$/;

function invalid(message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, message);
}

/** Checks a service name; raises INVALID_ARGUMENT unless it matches `[A-Za-z0-9_.-]{1,255}`. */
export function checkServiceName(service: unknown): string {
  if (typeof service !== "string" || !NAME.test(service)) {
    throw invalid(`invalid service name ${JSON.stringify(service)}: expected 1-255 characters of [A-Za-z0-9_.-]`);
  }
  return service;
}

/** A fresh instance id: `<hostname>-<pid>-<8 hex>`, reduced to the allowed characters. */
export function generateInstanceId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 200) || "host";
  return `${host}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

function checkEndpoint(endpoint: unknown, index: number): InstanceEndpoint {
  const e = endpoint as Partial<InstanceEndpoint> | null;
  if (typeof e !== "object" || e === null) throw invalid(`endpoints[${index}] must be an object {transport, url}`);
  if (typeof e.transport !== "string" || !TRANSPORT.test(e.transport)) {
    throw invalid(`endpoints[${index}].transport ${JSON.stringify(e.transport)} must match [a-z][a-z0-9+.-]{0,31}`);
  }
  if (typeof e.url !== "string" || !URL.canParse(e.url)) {
    throw invalid(`endpoints[${index}].url ${JSON.stringify(e.url)} is not a URL (e.g. grpc://10.0.0.5:50051)`);
  }
  const host = new URL(e.url).hostname.replace(/^\[|\]$/g, "");
  if (host === "0.0.0.0" || host === "::") {
    throw invalid(`endpoints[${index}].url ${JSON.stringify(e.url)} is a listen address (every interface), not one clients can reach: register the advertised address (ListeningAddress.url, advertiseHost)`);
  }
  return { transport: e.transport, url: e.url };
}

function checkMetadata(metadata: ServiceInstanceInit["metadata"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (value === undefined) continue;
    if (!NAME.test(key)) throw invalid(`metadata key ${JSON.stringify(key)} must be 1-255 characters of [A-Za-z0-9_.-]`);
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw invalid(`metadata.${key} must be a string, number or boolean`);
    }
    out[key] = String(value);
  }
  if (out.weight !== undefined) parseWeight(out.weight, true);
  return out;
}

/**
 * The weight in instance metadata: a positive finite number, default 1.
 * With `strict`, a bad value raises INVALID_ARGUMENT; otherwise it reads as 1.
 */
export function parseWeight(value: string | undefined, strict = false): number {
  if (value === undefined) return 1;
  const weight = Number(value);
  if (Number.isFinite(weight) && weight > 0) return weight;
  if (strict) throw invalid(`metadata.weight ${JSON.stringify(value)} must be a positive finite number`);
  return 1;
}

/**
 * Validates and normalises what {@link ServiceRegistry.register} receives.
 * Raises INVALID_ARGUMENT naming the first bad field, or when the encoded
 * instance exceeds `maxInstanceBytes`.
 */
export function normalizeInstance(init: ServiceInstanceInit, maxInstanceBytes = DEFAULT_MAX_INSTANCE_BYTES): ServiceInstance {
  if (typeof init !== "object" || init === null) throw invalid("instance must be an object {service, endpoints, metadata}");
  const service = checkServiceName(init.service);
  const instanceId = init.instanceId ?? generateInstanceId();
  if (typeof instanceId !== "string" || !NAME.test(instanceId)) {
    throw invalid(`invalid instanceId ${JSON.stringify(instanceId)}: expected 1-255 characters of [A-Za-z0-9_.-]`);
  }
  if (!Array.isArray(init.endpoints) || init.endpoints.length === 0) throw invalid(`instance of ${service} needs at least one endpoint`);
  if (init.endpoints.length > MAX_ENDPOINTS) throw invalid(`instance of ${service} has ${init.endpoints.length} endpoints; at most ${MAX_ENDPOINTS}`);
  const instance: ServiceInstance = {
    service,
    instanceId,
    endpoints: init.endpoints.map(checkEndpoint),
    metadata: checkMetadata(init.metadata),
  };
  const bytes = Buffer.byteLength(JSON.stringify(instance));
  if (bytes > maxInstanceBytes) throw invalid(`instance ${instanceId} of ${service} encodes to ${bytes} bytes; the limit is ${maxInstanceBytes}`);
  return instance;
}

/** The effective registration options, with defaults; raises INVALID_ARGUMENT for a bad TTL or heartbeat. */
export function normalizeRegisterOptions(options: RegisterOptions = {}): Required<Omit<RegisterOptions, "onError">> & Pick<RegisterOptions, "onError"> {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > 86_400_000) {
    throw invalid(`ttlMs ${ttlMs} must be an integer between ${MIN_TTL_MS} and 86400000`);
  }
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(ttlMs / 3);
  if (!Number.isFinite(heartbeatIntervalMs) || heartbeatIntervalMs <= 0 || heartbeatIntervalMs >= ttlMs) {
    throw invalid(`heartbeatIntervalMs ${heartbeatIntervalMs} must be positive and below ttlMs ${ttlMs}`);
  }
  return { ttlMs, heartbeatIntervalMs, keepAlive: options.keepAlive ?? true, onError: options.onError };
}

/** An instance as a distributed backend stores it: the instance plus the TTL its registration uses. */
export interface StoredInstance {
  readonly instance: ServiceInstance;
  readonly ttlMs: number;
}

/** Encodes an instance for a distributed backend (JSON). */
export function encodeInstance(instance: ServiceInstance, ttlMs: number): string {
  return JSON.stringify({ ...instance, ttlMs });
}

/** Decodes {@link encodeInstance}'s output; undefined (never a throw) for foreign or corrupt data. */
export function decodeInstance(text: string): StoredInstance | undefined {
  try {
    const raw = JSON.parse(text) as ServiceInstance & { ttlMs?: unknown };
    const ttlMs = typeof raw.ttlMs === "number" && raw.ttlMs > 0 ? raw.ttlMs : DEFAULT_TTL_MS;
    const { service, instanceId, endpoints, metadata } = raw;
    if (typeof instanceId !== "string") return undefined;
    return { instance: normalizeInstance({ service, instanceId, endpoints, metadata }, Number.MAX_SAFE_INTEGER), ttlMs };
  } catch {
    return undefined;
  }
}

/** Sorts instances by instanceId (the order every registry reports). */
export function sortInstances(instances: Iterable<ServiceInstance>): ServiceInstance[] {
  return [...instances].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
}

/** True when two instances carry the same endpoints and metadata. */
export function sameInstance(a: ServiceInstance, b: ServiceInstance): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
