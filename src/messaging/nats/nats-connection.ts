import type { NatsConnection } from "@nats-io/transport-node";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { importPeer } from "../adapter-registry.js";

/**
 * Connects to the NATS server of a `nats://[user:pass@]host[:port]` URL
 * (reconnecting forever, every 250 ms, after a loss); raises UNAVAILABLE
 * when it does not answer. Used by the messaging adapter and the RPC transport.
 */
export async function connectNats(url: URL, name: string): Promise<NatsConnection> {
  const { connect } = await importPeer("@nats-io/transport-node", () => import("@nats-io/transport-node"));
  try {
    return await connect({
      servers: `${url.hostname}:${url.port || "4222"}`,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      pass: url.password ? decodeURIComponent(url.password) : undefined,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  } catch (err) {
    throw new FerryError(Code.UNAVAILABLE, `cannot connect to NATS at ${url.host}: ${(err as Error).message}`, { cause: err });
  }
}
