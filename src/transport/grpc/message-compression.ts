import type { Message } from "@bufbuild/protobuf";
import { createContextKey } from "../../rpc/call-context.js";
import type { GrpcCompression } from "./grpc-compression.js";

const sendMarks = new WeakMap<object, boolean>();
const received = new WeakSet<object>();

/**
 * Overrides compression for one message that a Ferry gRPC client or server
 * is about to send, and returns the message.
 *
 * - `false`: sent uncompressed (flag 0) even when the call compresses.
 * - `true`: sent compressed with the call's encoding. On a unary or
 *   server-streaming request (one message, known before the headers) the
 *   call switches to gzip if its channel sends `identity`. Elsewhere the
 *   encoding is fixed when the stream starts; `true` on an `identity` call is
 *   ignored.
 *
 * This is gRPC's per-message "no compress" write flag (doc/compression.md).
 */
export function setMessageCompression<T extends Message>(message: T, compress: boolean): T {
  sendMarks.set(message, compress);
  return message;
}

/** The override set by {@link setMessageCompression}, if any. @internal */
export function messageCompressionMark(message: Message): boolean | undefined {
  return sendMarks.get(message);
}

/** Records that `message` arrived with the compressed flag set. @internal */
export function markReceivedCompressed(message: Message): void {
  received.add(message);
}

/**
 * True when `message` was received by a Ferry gRPC client or server as a
 * compressed message (flag 1 in its gRPC prefix). Handlers use this to check
 * what a peer sent (the interop test's `expect_compressed`).
 */
export function wasReceivedCompressed(message: Message): boolean {
  return received.has(message);
}

/**
 * Per-call choice of the response encoding on a Ferry gRPC server: a handler
 * (or interceptor) sets it with `ctx.values.set(grpcResponseCompression, "gzip")`
 * before the first response message. It is used only when the client listed
 * the encoding in `grpc-accept-encoding`; otherwise the response goes out
 * uncompressed. Default `undefined`: the server's `sendCompression` option.
 */
export const grpcResponseCompression = createContextKey<GrpcCompression | undefined>(undefined, "grpc response compression");
