/**
 * Ferry's implementation of grpc.testing.TestService, with every server
 * feature of the gRPC interop test descriptions (grpc/grpc
 * doc/interop-test-descriptions.md, "Server"): EmptyCall, UnaryCall,
 * StreamingOutputCall, StreamingInputCall, FullDuplexCall, HalfDuplexCall,
 * CompressedRequest, CompressedResponse, Echo Status, Echo Metadata and
 * ResponseParameters.interval_us. UnimplementedCall is left out on purpose.
 */
import { create, type Message } from "@bufbuild/protobuf";
import { Code, FerryError, type CallContext, type ServiceImpl } from "../../src/index.js";
import { grpcResponseCompression, setMessageCompression, wasReceivedCompressed } from "../../src/transport/grpc/index.js";
import { StreamingOutputCallResponseSchema, type EchoStatus, type ResponseParameters, type StreamingOutputCallRequest, type StreamingOutputCallResponse } from "../gen/grpc/testing/messages_pb.js";
import type { TestService } from "../gen/grpc/testing/test_pb.js";

const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/** Echo Metadata: the initial key goes back in headers, the trailing one in trailers. */
function echoMetadata(ctx: CallContext): void {
  const initial = ctx.requestMetadata.get(ECHO_INITIAL);
  if (initial !== undefined) ctx.responseHeaders.set(ECHO_INITIAL, initial);
  const trailing = ctx.requestMetadata.get(ECHO_TRAILING);
  if (trailing !== undefined) ctx.responseTrailers.set(ECHO_TRAILING, trailing);
}

/** Echo Status: fail with the requested status. */
function echoStatus(status: EchoStatus | undefined): void {
  if (status !== undefined && status.code !== 0) throw new FerryError(status.code as Code, status.message);
}

/** CompressedRequest: a request whose expect_compressed disagrees with how it arrived fails with INVALID_ARGUMENT. */
function checkCompressed(message: Message, expect: { value: boolean } | undefined): void {
  if (expect === undefined) return;
  const was = wasReceivedCompressed(message);
  if (expect.value && !was) throw new FerryError(Code.INVALID_ARGUMENT, "expected a compressed request, got an uncompressed one");
  if (!expect.value && was) throw new FerryError(Code.INVALID_ARGUMENT, "expected an uncompressed request, got a compressed one");
}

function sleep(us: number, ctx: CallContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, us / 1000);
    ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
  });
}

/** One StreamingOutputCallResponse per parameter, compressed as each asks (CompressedResponse). */
async function* respond(params: ResponseParameters[], ctx: CallContext): AsyncGenerator<StreamingOutputCallResponse> {
  for (const p of params) {
    if (p.intervalUs > 0) await sleep(p.intervalUs, ctx);
    const res = create(StreamingOutputCallResponseSchema, { payload: { body: new Uint8Array(p.size) } });
    if (p.compressed?.value) ctx.values.set(grpcResponseCompression, "gzip");
    yield p.compressed?.value === true ? res : setMessageCompression(res, false);
  }
}

async function* fullDuplex(requests: AsyncIterable<StreamingOutputCallRequest>, ctx: CallContext): AsyncGenerator<StreamingOutputCallResponse> {
  echoMetadata(ctx);
  for await (const req of requests) {
    echoStatus(req.responseStatus);
    yield* respond(req.responseParameters, ctx);
  }
}

async function* halfDuplex(requests: AsyncIterable<StreamingOutputCallRequest>, ctx: CallContext): AsyncGenerator<StreamingOutputCallResponse> {
  echoMetadata(ctx);
  const all: StreamingOutputCallRequest[] = [];
  for await (const req of requests) all.push(req);
  for (const req of all) {
    echoStatus(req.responseStatus);
    yield* respond(req.responseParameters, ctx);
  }
}

/** The TestService handlers. */
export const testServiceImpl: ServiceImpl<typeof TestService> = {
  emptyCall: () => ({}),
  unaryCall(req, ctx) {
    echoMetadata(ctx);
    checkCompressed(req, req.expectCompressed);
    echoStatus(req.responseStatus);
    if (req.responseCompressed?.value) ctx.values.set(grpcResponseCompression, "gzip");
    return { payload: { body: new Uint8Array(req.responseSize) } };
  },
  cacheableUnaryCall(_req, ctx) {
    ctx.responseHeaders.set("cache-control", "max-age=60");
    return { payload: { body: new TextEncoder().encode(String(process.hrtime.bigint())) } };
  },
  async *streamingOutputCall(req, ctx) {
    echoMetadata(ctx);
    echoStatus(req.responseStatus);
    yield* respond(req.responseParameters, ctx);
  },
  async streamingInputCall(requests, ctx) {
    echoMetadata(ctx);
    let total = 0;
    for await (const req of requests) {
      checkCompressed(req, req.expectCompressed);
      total += req.payload?.body.byteLength ?? 0;
    }
    return { aggregatedPayloadSize: total };
  },
  fullDuplexCall: fullDuplex,
  halfDuplexCall: halfDuplex,
};
