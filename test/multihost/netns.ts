/**
 * Simulated hosts on one Linux machine: network namespaces joined through
 * veth pairs to a bridge that lives in a namespace of its own (the "switch"),
 * so nothing is added to the machine's own network. Each host has `lo` and
 * `eth0` with one address of 10.77.0.0/24 on the switch's bridge. Faults:
 * a host's switch port down/up (a cut link) and `tc netem` delay on its
 * `eth0`. Needs root and iproute2 (`ip`, `tc`).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/** One simulated host. */
export interface Host {
  /** Short name (`a`, `b`, …). */
  readonly name: string;
  /** Its network namespace. */
  readonly netns: string;
  /** Its address on the bridge. */
  readonly ip: string;
  /** The veth end on the switch (down = the host is cut off). */
  readonly switchPort: string;
}

/** A set of hosts on one bridge. */
export interface HostNetwork {
  readonly hosts: readonly Host[];
  /** Prefixes argv to run it inside `host`'s namespace. */
  wrap(host: Host, argv: string[]): string[];
  /** Cuts (`false`) or restores (`true`) `host`'s link. */
  setLink(host: Host, up: boolean): Promise<void>;
  /** Adds (`ms > 0`) or removes (`0`) a netem delay on `host`'s eth0. */
  setDelay(host: Host, ms: number): Promise<void>;
  /** Deletes every namespace (and with them the veths and the bridge). Safe to call twice. */
  destroy(): Promise<void>;
}

/** Why hosts cannot be simulated here, or undefined when they can (root, `ip` and `tc`, network namespaces). */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  for (const tool of ["/usr/sbin/ip", "/usr/sbin/tc"]) if (!existsSync(tool) && !existsSync(tool.replace("/usr/sbin", "/sbin"))) return `${tool} is missing (Debian's iproute2)`;
  const probe = `ferry-probe-${randomBytes(3).toString("hex")}`;
  try {
    await run("ip", ["netns", "add", probe]);
    await run("ip", ["netns", "del", probe]);
    return undefined;
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message.split("\n")[0]}`;
  }
}

/** Why `tc netem` cannot add latency here (e.g. a kernel without sch_netem), or undefined when it can. */
export async function netemUnavailable(): Promise<string | undefined> {
  const probe = `ferry-netem-${randomBytes(3).toString("hex")}`;
  try {
    await run("ip", ["netns", "add", probe]);
    await run("ip", ["-n", probe, "link", "set", "lo", "up"]);
    await run("ip", ["netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]);
    return undefined;
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    return `tc netem is not available (${msg.split("\n")[0]}; the kernel lacks sch_netem)`;
  } finally {
    await run("ip", ["netns", "del", probe]).catch(() => undefined);
  }
}

async function ip(...args: string[]): Promise<void> {
  await run("ip", args);
}

/** Creates `names.length` hosts (10.77.0.1, .2, …) on a bridge in a switch namespace; on failure removes what it made. */
export async function createHostNetwork(names: readonly string[]): Promise<HostNetwork> {
  const tag = randomBytes(3).toString("hex");
  const sw = `ferry-sw-${tag}`;
  const hosts: Host[] = names.map((name, i) => ({ name, netns: `ferry-${name}-${tag}`, ip: `10.77.0.${i + 1}`, switchPort: `p-${name}` }));
  const created: string[] = [];
  const destroy = async (): Promise<void> => {
    for (const ns of created.splice(0)) await ip("netns", "del", ns).catch(() => undefined);
  };
  try {
    await ip("netns", "add", sw);
    created.push(sw);
    await ip("-n", sw, "link", "add", "br0", "type", "bridge");
    await ip("-n", sw, "link", "set", "br0", "up");
    await ip("-n", sw, "link", "set", "lo", "up");
    for (const h of hosts) {
      await ip("netns", "add", h.netns);
      created.push(h.netns);
      await ip("-n", sw, "link", "add", h.switchPort, "type", "veth", "peer", "name", "eth0", "netns", h.netns);
      await ip("-n", sw, "link", "set", h.switchPort, "master", "br0");
      await ip("-n", sw, "link", "set", h.switchPort, "up");
      await ip("-n", h.netns, "link", "set", "lo", "up");
      await ip("-n", h.netns, "addr", "add", `${h.ip}/24`, "dev", "eth0");
      await ip("-n", h.netns, "link", "set", "eth0", "up");
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    hosts,
    wrap: (host, argv) => ["ip", "netns", "exec", host.netns, ...argv],
    setLink: (host, up) => ip("-n", sw, "link", "set", host.switchPort, up ? "up" : "down"),
    setDelay: async (host, ms) => {
      const verb = ms > 0 ? ["add", "dev", "eth0", "root", "netem", "delay", `${ms}ms`] : ["del", "dev", "eth0", "root"];
      await run("ip", ["netns", "exec", host.netns, "tc", "qdisc", ...verb]);
    },
    destroy,
  };
}
