/**
 * Raw HTTP/2 access to a gRPC server, for tests that need to see or send
 * what a well-behaved client library never would (GOAWAY frames, invalid
 * headers, hand-made message prefixes).
 */
import { toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import http2 from "node:http2";

/** A gRPC Length-Prefixed-Message. */
export function grpcFrame(payload: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}

/** A framed, serialized message of `schema`. */
export function messageFrame<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Buffer {
  return grpcFrame(toBinary(schema, create(schema, init)));
}

/** What a raw call saw. */
export interface RawResult {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  /** The grpc-status from trailers or Trailers-Only headers. */
  grpcStatus: string | undefined;
  rstCode: number | undefined;
  body: Buffer;
}

/** Sends one request on `session` and resolves once the stream closes. */
export function rawCall(session: http2.ClientHttp2Session, path: string, body: Buffer, extra: http2.OutgoingHttpHeaders = {}): Promise<RawResult> {
  return new Promise((resolve) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...extra });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("close", () =>
      resolve({
        status: Number(headers[":status"]),
        headers,
        trailers,
        grpcStatus: (trailers["grpc-status"] ?? headers["grpc-status"]) as string | undefined,
        rstCode: req.rstCode,
        body: Buffer.concat(chunks),
      }),
    );
    req.end(body);
  });
}

/** Connects a raw HTTP/2 session to a `grpc://` URL; resolves once connected. */
export async function rawSession(url: string, options: http2.ClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url.replace(/^grpc:/, "http:"), options);
  session.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  return session;
}

/** Resolves when `check` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
