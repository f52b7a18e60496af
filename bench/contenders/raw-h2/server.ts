import { createServer, type ServerHttp2Stream } from "node:http2";
import type { BenchServer, StartServer } from "../../lib/contender-api.js";
import { frameMessage, frameMessages, GrpcMessageReader, H2_STREAM_WINDOW_BYTES, SERVER_STREAM_PATH } from "../../lib/grpc-framing.js";
import { closeServer, listenServer, waitForDrain } from "../../lib/net-server.js";

/**
 * Raw HTTP/2 reference server: the least a gRPC server must do in Node —
 * read the 5-byte-prefixed request, answer 200 `application/grpc`, the
 * framed response and a `grpc-status: 0` trailer. ServerStream requests carry
 * u32 count + payload; the response is count framed copies of the payload.
 */

/** Messages per write while streaming. */
const STREAM_BATCH = 128;

async function sendStream(stream: ServerHttp2Stream, count: number, payload: Buffer): Promise<void> {
  let sent = 0;
  while (sent < count && !stream.destroyed) {
    const n = Math.min(STREAM_BATCH, count - sent);
    sent += n;
    if (!stream.write(frameMessages(payload, n))) await waitForDrain(stream);
  }
  if (!stream.destroyed) stream.end();
}

function answer(stream: ServerHttp2Stream, path: string, message: Buffer): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  if (path === SERVER_STREAM_PATH) void sendStream(stream, message.readUInt32BE(0), Buffer.from(message.subarray(4)));
  else stream.end(frameMessage(message));
}

export const startServer: StartServer = async ({ host }): Promise<BenchServer> => {
  const server = createServer({ settings: { initialWindowSize: H2_STREAM_WINDOW_BYTES } });
  server.on("stream", (stream, headers) => {
    const path = String(headers[":path"]);
    let message: Buffer | undefined;
    const reader = new GrpcMessageReader((m) => (message = Buffer.from(m)));
    stream.on("data", (chunk: Buffer) => reader.push(chunk));
    stream.on("end", () => {
      if (message === undefined) stream.close(2);
      else answer(stream, path, message);
    });
    stream.on("error", () => stream.destroy());
  });
  const port = await listenServer(server, host);
  return { address: `${host}:${port}`, close: () => closeServer(server) };
};
