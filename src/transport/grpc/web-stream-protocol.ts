import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { parseGrpcTimeout } from "../../rpc/grpc-timeout.js";
import type { Metadata } from "../../rpc/metadata.js";
import { writeMetadata } from "./grpc-headers.js";
import { negotiateCompression, requestCompression, WEB_ACCEPT_ENCODING, type WebCompression } from "./web-compression.js";
import { connectEndStream, grpcWebTrailers } from "./web-envelope.js";

/**
 * What differs between the two enveloped protocols served beside gRPC on
 * its port: Connect streaming (`application/connect+proto|json`) and
 * gRPC-Web (`application/grpc-web[+proto|+json]`, `application/grpc-web-text`).
 * Both frame messages as gRPC does; they differ in headers, timeouts and
 * how the status travels (an end-stream JSON message, a trailers frame).
 */
export interface WebStreamProtocol {
  /** The transport name calls report (`ctx.transport`). */
  readonly transport: "connect" | "grpc-web";
  /** Messages in protobuf's JSON mapping rather than binary. */
  readonly json: boolean;
  /** The body is base64 text (`application/grpc-web-text`). */
  readonly text: boolean;
  /** The call's deadline from its timeout header, as a Unix time in ms. @throws FerryError for a malformed value. */
  deadline(headers: IncomingHttpHeaders): number | undefined;
  /** The request messages' compression. @throws FerryError UNIMPLEMENTED for an unsupported one. */
  requestEncoding(headers: IncomingHttpHeaders): WebCompression;
  /** The response messages' compression: the first of the client's accepted encodings the server has. */
  responseEncoding(headers: IncomingHttpHeaders): WebCompression;
  /** Response headers: status 200's content type, the encoding and the handler's metadata. */
  responseHeaders(encoding: WebCompression, metadata: Metadata): OutgoingHttpHeaders;
  /** The final envelope carrying the status and the trailers. */
  endFrame(error: FerryError | undefined, trailers: Metadata): Buffer;
}

/** The Connect streaming content types (connectrpc.com/docs/protocol, "Streaming-Content-Type"). */
export function isConnectStreamContentType(base: string): boolean {
  return base.startsWith("application/connect+");
}

/** The gRPC-Web content types (PROTOCOL-WEB.md). */
export function isGrpcWebContentType(base: string): boolean {
  return base.startsWith("application/grpc-web");
}

/**
 * The protocol of a request with content type `base` (lower case, without
 * parameters), or `undefined` when it is none of the enveloped ones.
 *
 * @throws FerryError UNIMPLEMENTED for a codec other than proto and json (answered 415).
 */
export function webStreamProtocol(base: string): WebStreamProtocol | undefined {
  if (isConnectStreamContentType(base)) {
    const codec = base.slice("application/connect+".length);
    return connectStream(base, checkCodec(codec, base));
  }
  if (!isGrpcWebContentType(base)) return undefined;
  const text = base.startsWith("application/grpc-web-text");
  const rest = base.slice(text ? "application/grpc-web-text".length : "application/grpc-web".length);
  if (rest !== "" && !rest.startsWith("+")) return undefined;
  return grpcWeb(base, checkCodec(rest === "" ? "proto" : rest.slice(1), base), text);
}

function checkCodec(codec: string, contentType: string): boolean {
  if (codec === "proto") return false;
  if (codec === "json") return true;
  throw new FerryError(Code.UNIMPLEMENTED, `unsupported content type ${contentType.slice(0, 64)} (codecs: proto, json)`);
}

function connectStream(contentType: string, json: boolean): WebStreamProtocol {
  return {
    transport: "connect",
    json,
    text: false,
    deadline: (h) => connectDeadline(h["connect-timeout-ms"]),
    requestEncoding: (h) => requestCompression(h["connect-content-encoding"]),
    responseEncoding: (h) => negotiateCompression(h["connect-accept-encoding"]),
    responseHeaders(encoding, metadata) {
      const out: OutgoingHttpHeaders = { "content-type": contentType, "connect-accept-encoding": WEB_ACCEPT_ENCODING };
      if (encoding !== "identity") out["connect-content-encoding"] = encoding;
      writeMetadata(out, metadata);
      return out;
    },
    endFrame: connectEndStream,
  };
}

function grpcWeb(contentType: string, json: boolean, text: boolean): WebStreamProtocol {
  return {
    transport: "grpc-web",
    json,
    text,
    deadline(h) {
      const raw = h["grpc-timeout"];
      if (typeof raw !== "string") return undefined;
      const ms = parseGrpcTimeout(raw);
      if (ms === undefined) throw new FerryError(Code.INVALID_ARGUMENT, `invalid grpc-timeout "${raw.slice(0, 16)}"`);
      return Date.now() + ms;
    },
    requestEncoding: (h) => requestCompression(h["grpc-encoding"]),
    responseEncoding: (h) => negotiateCompression(h["grpc-accept-encoding"]),
    responseHeaders(encoding, metadata) {
      const out: OutgoingHttpHeaders = { "content-type": contentType, "grpc-accept-encoding": WEB_ACCEPT_ENCODING };
      if (encoding !== "identity") out["grpc-encoding"] = encoding;
      writeMetadata(out, metadata);
      return out;
    },
    endFrame: grpcWebTrailers,
  };
}

/**
 * The deadline of a `Connect-Timeout-Ms` header: at most 10 digits
 * (connectrpc.com/docs/protocol), as a Unix time in ms.
 *
 * @throws FerryError INVALID_ARGUMENT for any other value.
 */
export function connectDeadline(raw: string | string[] | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^[0-9]{1,10}$/.test(raw)) {
    throw new FerryError(Code.INVALID_ARGUMENT, `invalid connect-timeout-ms "${String(raw).slice(0, 16)}": expected 1 to 10 digits`);
  }
  return Date.now() + Number(raw);
}
