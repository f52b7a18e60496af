import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Most members one URL may name (the URL's host plus the list). */
export const MAX_CLUSTER_MEMBERS = 32;

/**
 * The members of a cluster named by one URL: the URL's own `host:port`
 * first, then each entry of the comma-separated query parameter `param`
 * (`nats://a:4222?servers=b:4222,c:4222`, `etcd://a:2379?endpoints=b:2379`).
 * An entry is `host[:port]` (an IPv6 address in brackets), optionally with
 * a scheme (`nats://b:4222`), which is dropped; a missing port is
 * `defaultPort`. Duplicates are removed, order is kept.
 *
 * @param what names the URL in error messages (e.g. `"NATS URL"`).
 * @returns `host:port` strings, at least one.
 * @throws FerryError INVALID_ARGUMENT for a missing host, an entry that is not `host[:port]`, a port outside 1–65535, or more than {@link MAX_CLUSTER_MEMBERS} members.
 */
export function clusterMembers(url: URL, param: string, defaultPort: number, what: string): string[] {
  if (url.hostname === "") throw invalid(what, "missing host (e.g. 127.0.0.1)");
  const members = [`${url.hostname}:${url.port === "" ? defaultPort : url.port}`];
  const list = url.searchParams.get(param);
  for (const raw of list === null ? [] : list.split(",")) {
    const entry = raw.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
    if (entry === "") continue;
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
    if (m === null || port < 1 || port > 65535) throw invalid(what, `${param} entry "${raw.slice(0, 64)}" is not host[:port]`);
    const member = `${m[1]}:${port}`;
    if (!members.includes(member)) members.push(member);
  }
  if (members.length > MAX_CLUSTER_MEMBERS) throw invalid(what, `${members.length} members exceed the limit of ${MAX_CLUSTER_MEMBERS}`);
  return members;
}

/**
 * Reads an integer query parameter within `[min, max]`; undefined when absent.
 *
 * @throws FerryError INVALID_ARGUMENT naming the parameter when it is not an integer in range.
 */
export function intQueryParam(url: URL, name: string, min: number, max: number, what: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(what, `${name}=${value.slice(0, 16)} must be an integer from ${min} to ${max}`);
  return n;
}

function invalid(what: string, message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `${what}: ${message}`);
}
