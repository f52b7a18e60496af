import { createServer, type Socket } from "node:net";
import type { BenchServer, StartServer } from "../../lib/contender-api.js";
import { FrameReader, FrameWriter, Kind } from "../../lib/length-prefixed.js";
import { closeServer, listenServer, waitForDrain } from "../../lib/net-server.js";

/** Raw TCP reference server: echoes UNARY frames; answers a STREAM frame (u32 count + payload) with count MESSAGE frames and an END frame. */

/** Frames queued per write while streaming. */
const STREAM_BATCH = 128;
const EMPTY = new Uint8Array(0);

async function stream(socket: Socket, writer: FrameWriter, id: number, count: number, payload: Uint8Array): Promise<void> {
  let sent = 0;
  while (sent < count && !socket.destroyed) {
    const n = Math.min(STREAM_BATCH, count - sent);
    for (let i = 0; i < n; i++) writer.write(id, Kind.MESSAGE, payload);
    sent += n;
    if (!writer.flush()) await waitForDrain(socket);
  }
  writer.write(id, Kind.END, EMPTY);
}

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  const writer = new FrameWriter(socket);
  const reader = new FrameReader((id, kind, body) => {
    if (kind === Kind.UNARY) writer.write(id, Kind.MESSAGE, body);
    else if (kind === Kind.STREAM) void stream(socket, writer, id, body.readUInt32BE(0), Uint8Array.prototype.slice.call(body, 4));
  });
  socket.on("data", (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch {
      socket.destroy();
    }
  });
  socket.on("error", () => socket.destroy());
}

export const startServer: StartServer = async ({ host }): Promise<BenchServer> => {
  const server = createServer(serve);
  const port = await listenServer(server, host);
  return { address: `${host}:${port}`, close: () => closeServer(server) };
};
