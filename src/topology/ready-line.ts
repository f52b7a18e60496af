import type { ListeningAddress } from "../rpc/server-transport.js";
import type { RunningGroup } from "./run-topology.js";

/** Prefix of the status lines `ferry run` writes to standard output. */
export const READY_PREFIX = "ferry-run ";

/** What `ferry run --group G` announces once its group serves (one line, {@link READY_PREFIX} + JSON). */
export interface GroupReady {
  readonly event: "ready";
  readonly topology: string;
  readonly group: string;
  readonly pid: number;
  readonly instanceId: string;
  readonly services: readonly string[];
  readonly addresses: readonly ListeningAddress[];
  readonly httpUrl?: string;
  readonly metricsUrl?: string;
}

/** The ready line of a running group. */
export function formatReady(group: RunningGroup): string {
  const ready: GroupReady = {
    event: "ready",
    topology: group.topology,
    group: group.group,
    pid: process.pid,
    instanceId: group.instanceId,
    services: group.services,
    addresses: group.addresses,
    httpUrl: group.httpUrl,
    metricsUrl: group.metricsUrl,
  };
  return READY_PREFIX + JSON.stringify(ready);
}

/** The {@link GroupReady} of a line, or `undefined` for any other line. */
export function parseReady(line: string): GroupReady | undefined {
  if (!line.startsWith(READY_PREFIX)) return undefined;
  try {
    const value = JSON.parse(line.slice(READY_PREFIX.length)) as Partial<GroupReady>;
    return value.event === "ready" ? (value as GroupReady) : undefined;
  } catch {
    return undefined;
  }
}
