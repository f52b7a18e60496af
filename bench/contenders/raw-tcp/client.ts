import { connect } from "node:net";
import { once } from "node:events";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";
import { FrameReader, FrameWriter, Kind } from "../../lib/length-prefixed.js";
import { parseHostPort } from "../../lib/net-server.js";

/** Raw TCP reference client: one connection, calls multiplexed by id, writes coalesced per microtask checkpoint. */

interface Pending {
  resolve(n: number): void;
  reject(err: Error): void;
  /** Messages received so far (streams). */
  count: number;
  stream: boolean;
}

export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  const socket = connect(parseHostPort(address));
  socket.setNoDelay(true);
  await once(socket, "connect");
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const writer = new FrameWriter(socket);
  const reader = new FrameReader((id, kind, body) => {
    const p = pending.get(id);
    if (p === undefined) return;
    if (!p.stream) {
      pending.delete(id);
      p.resolve(body.length);
    } else if (kind === Kind.MESSAGE) p.count++;
    else if (kind === Kind.END) {
      pending.delete(id);
      p.resolve(p.count);
    }
  });
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  socket.on("error", failAll);
  socket.on("close", () => failAll(new Error("connection closed")));
  const start = (kind: number, body: Uint8Array, stream: boolean): Promise<number> =>
    new Promise((resolve, reject) => {
      const id = nextId++ >>> 0;
      pending.set(id, { resolve, reject, count: 0, stream });
      writer.write(id, kind, body);
    });
  return {
    unary: (payload) => start(Kind.UNARY, payload, false),
    serverStream: (count, payload) => {
      const body = Buffer.allocUnsafe(4 + payload.length);
      body.writeUInt32BE(count, 0);
      body.set(payload, 4);
      return start(Kind.STREAM, body, true);
    },
    close: async () => {
      socket.end();
      socket.destroy();
    },
  };
};
