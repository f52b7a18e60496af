import type { ShopRole } from "./start-shop-service.js";

/** Prefix of the status lines a shop process writes to standard output (its logs are pino JSON lines). */
export const STATUS_PREFIX = "ferry-shop ";

/** A process is serving and registered. */
export interface ReadyStatus {
  readonly event: "ready";
  readonly role: ShopRole;
  readonly instanceId: string;
  readonly pid: number;
  readonly nativeUrl?: string;
  readonly grpcUrl?: string;
  readonly httpUrl?: string;
  /** The process's Prometheus endpoint (`--metrics-port`), when it serves one. */
  readonly metricsUrl?: string;
}

/** Calls served so far (written on SIGUSR2 and at shutdown). */
export interface StatsStatus {
  readonly event: "stats";
  readonly role: ShopRole;
  readonly instanceId: string;
  readonly total: number;
  /** Calls per method path. */
  readonly calls: Record<string, number>;
}

/** The process has deregistered and drained; it exits next. */
export interface StoppedStatus {
  readonly event: "stopped";
  readonly role: ShopRole;
  readonly instanceId: string;
}

/** Any status line. */
export type ShopStatus = ReadyStatus | StatsStatus | StoppedStatus;

/** The line for `status`. */
export function formatStatus(status: ShopStatus): string {
  return STATUS_PREFIX + JSON.stringify(status);
}

/** The status in `line`, or undefined for any other line (a log line). */
export function parseStatus(line: string): ShopStatus | undefined {
  if (!line.startsWith(STATUS_PREFIX)) return undefined;
  try {
    return JSON.parse(line.slice(STATUS_PREFIX.length)) as ShopStatus;
  } catch {
    return undefined;
  }
}
