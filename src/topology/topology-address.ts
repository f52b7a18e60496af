import { isIP } from "node:net";

/** A host and port of a topology address (`"0.0.0.0:50052"`, `"[::1]:0"`, `"inventory.shop"`). */
export interface HostPort {
  /** Host name or IP address, IPv6 without brackets. */
  readonly host: string;
  /** Port, or `undefined` when the text had none. */
  readonly port: number | undefined;
}

const HOST_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT`, `HOST` or a bare IPv6 address. Returns
 * `undefined` for anything else (a scheme, a path, a port outside 0–65535).
 */
export function parseHostPort(text: string): HostPort | undefined {
  if (isIP(text) === 6) return { host: text, port: undefined };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/]+))(?::(\d{1,5}))?$/.exec(text);
  if (m === null) return undefined;
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined ? isIP(host) !== 6 : isIP(host) === 0 && !HOST_NAME.test(host)) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  return { host, port };
}

/** `host:port` with IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
