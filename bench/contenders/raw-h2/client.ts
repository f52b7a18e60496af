import { connect, type ClientHttp2Session } from "node:http2";
import { once } from "node:events";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";
import { ECHO_PATH, frameMessage, GrpcMessageReader, H2_SESSION_WINDOW_BYTES, H2_STREAM_WINDOW_BYTES, SERVER_STREAM_PATH } from "../../lib/grpc-framing.js";

/** Raw HTTP/2 reference client: one session, one stream per call, gRPC framing, `grpc-status` checked. */

function call(session: ClientHttp2Session, path: string, body: Uint8Array): Promise<{ messages: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let messages = 0;
    let bytes = 0;
    let status: unknown;
    const reader = new GrpcMessageReader((m) => {
      messages++;
      bytes = m.length;
    });
    req.on("data", (chunk: Buffer) => reader.push(chunk));
    req.on("trailers", (trailers) => (status = trailers["grpc-status"]));
    req.on("error", reject);
    req.on("close", () => {
      if (status === "0") resolve({ messages, bytes });
      else reject(new Error(`call ended with grpc-status ${String(status)} (RST code ${req.rstCode})`));
    });
    req.end(frameMessage(body));
  });
}

export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  const session = connect(`http://${address}`, { settings: { initialWindowSize: H2_STREAM_WINDOW_BYTES } });
  await once(session, "connect");
  session.setLocalWindowSize(H2_SESSION_WINDOW_BYTES);
  return {
    unary: async (payload) => (await call(session, ECHO_PATH, payload)).bytes,
    serverStream: async (count, payload) => {
      const body = Buffer.allocUnsafe(4 + payload.length);
      body.writeUInt32BE(count, 0);
      body.set(payload, 4);
      return (await call(session, SERVER_STREAM_PATH, body)).messages;
    },
    close: async () => {
      session.destroy();
    },
  };
};
