import { isIP } from "node:net";
import type { Resolver } from "node:dns/promises";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { ServiceInstance } from "./service-registry.js";

/** A parsed DNS name of the DNS registry: an SRV name, or a host with a port. */
export type DnsName = { readonly kind: "srv"; readonly name: string } | { readonly kind: "host"; readonly host: string; readonly port: number };

const LABELS = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * Parses `_grpc._tcp.inventory.shop.svc.cluster.local` (SRV: the name starts
 * with `_`), `inventory.shop.svc.cluster.local:50051`, `10.0.0.5:50051` or
 * `[::1]:50051` (host and port; `defaultPort` when the port is absent).
 * Raises INVALID_ARGUMENT for anything else.
 */
export function parseDnsName(text: string, defaultPort: number): DnsName {
  if (text.startsWith("_")) {
    if (!LABELS.test(text)) throw badName(text);
    return { kind: "srv", name: text };
  }
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const m = bracketed ?? plain;
  const host = m?.[1];
  if (m === null || host === undefined || (bracketed !== null ? isIP(host) !== 6 : !LABELS.test(host))) throw badName(text);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badName(text);
  return { kind: "host", host, port };
}

function badName(text: string): FerryError {
  return new FerryError(
    Code.INVALID_ARGUMENT,
    `invalid DNS name "${text}": expected host[:port] (inventory.shop.svc.cluster.local:50051, [::1]:50051) or an SRV name (_grpc._tcp.inventory.shop.svc.cluster.local)`,
  );
}

const EMPTY_ANSWERS = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN"]);

async function lookupOne<T>(lookup: () => Promise<T[]>): Promise<T[] | Error> {
  try {
    return await lookup();
  } catch (error) {
    return EMPTY_ANSWERS.has((error as NodeJS.ErrnoException).code ?? "") ? [] : (error as Error);
  }
}

/** A and AAAA addresses of `host` (an IP literal is its own address); no record is an empty list, any other failure an UNAVAILABLE error. */
async function addresses(resolver: Resolver, host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const [v4, v6] = await Promise.all([lookupOne(() => resolver.resolve4(host)), lookupOne(() => resolver.resolve6(host))]);
  if (v4 instanceof Error && v6 instanceof Error) throw unavailable(host, v4);
  return [...(v4 instanceof Error ? [] : v4), ...(v6 instanceof Error ? [] : v6)];
}

function unavailable(name: string, error: Error): FerryError {
  return new FerryError(Code.UNAVAILABLE, `DNS lookup of ${name} failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { cause: error });
}

function endpointUrl(transport: string, ip: string, port: number): string {
  return `${transport}://${isIP(ip) === 6 ? `[${ip}]` : ip}:${port}`;
}

function instance(service: string, transport: string, ip: string, port: number, metadata: Record<string, string>): ServiceInstance {
  const url = endpointUrl(transport, ip, port);
  return { service, instanceId: url.slice(transport.length + 3), endpoints: [{ transport, url }], metadata };
}

/**
 * Resolves a {@link DnsName} to instances, one per address and port, with
 * `transport` URLs. For SRV, only the records of the lowest priority are
 * used (RFC 2782); a record's weight becomes the instance's `weight` (0 reads
 * as 1), and its target is resolved to A/AAAA addresses. A missing name or
 * record type gives an empty list; a server failure raises UNAVAILABLE.
 */
export async function lookupDnsName(resolver: Resolver, service: string, name: DnsName, transport: string): Promise<ServiceInstance[]> {
  if (name.kind === "host") {
    return (await addresses(resolver, name.host)).map((ip) => instance(service, transport, ip, name.port, {}));
  }
  const records = await lookupOne(() => resolver.resolveSrv(name.name));
  if (records instanceof Error) throw unavailable(name.name, records);
  if (records.length === 0) return [];
  const lowest = Math.min(...records.map((r) => r.priority));
  const chosen = records.filter((r) => r.priority === lowest);
  const resolved = await Promise.all(chosen.map(async (r) => ({ r, ips: await addresses(resolver, r.name) })));
  return resolved.flatMap(({ r, ips }) =>
    ips.map((ip) => instance(service, transport, ip, r.port, { weight: String(Math.max(1, r.weight)), "dns.target": r.name, "dns.priority": String(r.priority) })),
  );
}
