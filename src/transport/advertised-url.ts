import { networkInterfaces, hostname } from "node:os";
import { isIP } from "node:net";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { ListeningAddress } from "../rpc/server-transport.js";

/**
 * The address a server tells clients to use, when it differs from the one it
 * binds (a server bound to `0.0.0.0` in a container is reached at the pod's
 * IP or a DNS name; behind NAT or a port mapping, at another port).
 */
export interface AdvertiseOptions {
  /**
   * Host name or IP clients reach this server at, e.g. `"10.0.0.5"`,
   * `"inventory-0.shop.svc.cluster.local"`. Default: the bound host; for a
   * wildcard bind (`0.0.0.0`, `::`), the first non-internal address of this
   * machine ({@link routableHost}).
   */
  advertiseHost?: string;
  /** Port clients reach this server at. Default: the bound port. */
  advertisePort?: number;
}

/** True for the addresses that bind every interface: `0.0.0.0`, `::`, `[::]`, `::0` and the empty host. */
export function isWildcardHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "" || h === "0.0.0.0" || h === "::" || h === "::0" || h === "0:0:0:0:0:0:0:0";
}

/**
 * A host other machines can reach this one at, for a server bound to every
 * interface with nothing advertised: the first non-internal IPv4 address of
 * `os.networkInterfaces()`, else the first non-internal, non-link-local IPv6
 * one, else `os.hostname()` (what Moleculer and Dapr's self-hosted mode do).
 */
export function routableHost(): string {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const v4 = all.find((a) => a.family === "IPv4" && !a.internal);
  if (v4 !== undefined) return v4.address;
  const v6 = all.find((a) => a.family === "IPv6" && !a.internal && !a.address.toLowerCase().startsWith("fe80"));
  return v6?.address ?? hostname();
}

function bracketed(host: string): string {
  const h = host.replace(/^\[|\]$/g, "");
  return isIP(h) === 6 ? `[${h}]` : h;
}

/** An IP address (IPv6 with or without brackets) or a DNS host name. */
function isHost(text: string): boolean {
  return isIP(text.replace(/^\[(.*)\]$/, "$1")) !== 0 || /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(text);
}

/**
 * Checks {@link AdvertiseOptions}: a host without scheme, path or port, not a
 * wildcard, and a port from 1 to 65535. Raises INVALID_ARGUMENT naming the option.
 */
export function checkAdvertise(options: AdvertiseOptions): void {
  const { advertiseHost: host, advertisePort: port } = options;
  if (host !== undefined && (typeof host !== "string" || !isHost(host) || isWildcardHost(host))) {
    throw new FerryError(Code.INVALID_ARGUMENT, `advertiseHost ${JSON.stringify(host)} must be a host name or IP address clients can reach (not a wildcard such as 0.0.0.0, no scheme or port)`);
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `advertisePort ${String(port)} must be an integer from 1 to 65535`);
  }
}

/**
 * The {@link ListeningAddress} of a TCP listener: `url` the advertised target
 * (`scheme://advertiseHost:advertisePort`), `listenUrl` the bound address.
 */
export function listeningAddress(scheme: string, transport: string, boundHost: string, boundPort: number, advertise: AdvertiseOptions): ListeningAddress {
  const listenUrl = `${scheme}://${bracketed(boundHost)}:${boundPort}`;
  const host = advertise.advertiseHost ?? (isWildcardHost(boundHost) ? routableHost() : boundHost);
  const url = `${scheme}://${bracketed(host)}:${advertise.advertisePort ?? boundPort}`;
  return { url, transport, listenUrl };
}
