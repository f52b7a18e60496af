/**
 * The gRPC interop test cases (grpc/grpc doc/interop-test-descriptions.md,
 * "Client") run by a Ferry client. Each case throws an Error with a one-line
 * reason when an assertion fails.
 */
import { create } from "@bufbuild/protobuf";
import { Code, createClient, FerryError, type Metadata } from "../../src/index.js";
import { setMessageCompression, wasReceivedCompressed, type GrpcTransport } from "../../src/transport/grpc/index.js";
import { SimpleRequestSchema, StreamingInputCallRequestSchema, StreamingOutputCallRequestSchema, type StreamingOutputCallRequest } from "../gen/grpc/testing/messages_pb.js";
import { TestService, UnimplementedService } from "../gen/grpc/testing/test_pb.js";
import { AsyncQueue } from "../../src/util/async-queue.js";

/** The 18 cases this suite implements, in the order `all` runs them. */
export const INTEROP_CASES = [
  "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
  "cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server", "custom_metadata",
  "status_code_and_message", "special_status_message", "unimplemented_method", "unimplemented_service",
  "client_compressed_unary", "server_compressed_unary", "client_compressed_streaming", "server_compressed_streaming",
] as const;

/** One case name. */
export type InteropCase = (typeof INTEROP_CASES)[number];

/** The status message of special_status_message: whitespace, BMP and non-BMP characters. */
export const SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";
const zeros = (n: number) => new Uint8Array(n);

/** Fails the case with `reason` unless `ok`. */
export function check(ok: boolean, reason: string): asserts ok {
  if (!ok) throw new Error(reason);
}

/** Runs `fn`, expecting it to fail with `code`; returns the error. */
async function expectCode(code: Code, fn: () => Promise<unknown>, what: string): Promise<FerryError> {
  try {
    await fn();
  } catch (err) {
    const e = FerryError.from(err);
    check(e.code === code, `${what}: expected status ${Code[code]}, got ${Code[e.code]} "${e.rawMessage}"`);
    return e;
  }
  throw new Error(`${what}: expected status ${Code[code]}, but the call succeeded`);
}

function sizes(bodies: { payload?: { body: Uint8Array } }[]): number[] {
  return bodies.map((m) => m.payload?.body.byteLength ?? -1);
}

const sameList = (a: unknown[], b: unknown[]) => JSON.stringify(a) === JSON.stringify(b);

/** Runs one case with a Ferry client on `transport`. */
export async function runFerryCase(name: InteropCase, transport: GrpcTransport): Promise<void> {
  const client = createClient(TestService, transport);
  const cases: Record<InteropCase, () => Promise<void>> = {
    empty_unary: async () => {
      const res = await client.emptyCall({});
      check(res.$typeName === "grpc.testing.Empty", "EmptyCall did not return grpc.testing.Empty");
    },
    large_unary: async () => {
      const res = await client.unaryCall({ responseSize: 314159, payload: { body: zeros(271828) } });
      check(res.payload?.body.byteLength === 314159, `response payload is ${res.payload?.body.byteLength} bytes, expected 314159`);
    },
    client_streaming: async () => {
      const res = await client.streamingInputCall(fromList([27182, 8, 1828, 45904].map((n) => ({ payload: { body: zeros(n) } }))));
      check(res.aggregatedPayloadSize === 74922, `aggregated_payload_size ${res.aggregatedPayloadSize}, expected 74922`);
    },
    server_streaming: async () => {
      const got = [];
      for await (const m of client.streamingOutputCall({ responseParameters: [31415, 9, 2653, 58979].map((size) => ({ size })) })) got.push(m);
      check(sameList(sizes(got), [31415, 9, 2653, 58979]), `response sizes ${sizes(got)}, expected 31415,9,2653,58979`);
    },
    ping_pong: async () => {
      const requests = new AsyncQueue<StreamingOutputCallRequest>();
      const pairs = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]];
      const it = client.fullDuplexCall(requests)[Symbol.asyncIterator]();
      for (const [size, body] of pairs) {
        requests.push(create(StreamingOutputCallRequestSchema, { responseParameters: [{ size }], payload: { body: zeros(body) } }));
        const r = await it.next();
        check(!r.done && r.value.payload?.body.byteLength === size, `ping_pong: expected a ${size}-byte response`);
      }
      requests.end();
      check((await it.next()).done === true, "ping_pong: more than four responses");
    },
    empty_stream: async () => {
      let n = 0;
      for await (const _ of client.fullDuplexCall(fromList([]))) n++;
      check(n === 0, `empty_stream: got ${n} responses, expected none`);
    },
    cancel_after_begin: async () => {
      const ac = new AbortController();
      const pending = client.streamingInputCall(new AsyncQueue(), { signal: ac.signal });
      ac.abort();
      await expectCode(Code.CANCELLED, () => pending, "cancel_after_begin");
    },
    cancel_after_first_response: async () => {
      const ac = new AbortController();
      const requests = new AsyncQueue<StreamingOutputCallRequest>();
      requests.push(create(StreamingOutputCallRequestSchema, { responseParameters: [{ size: 31415 }], payload: { body: zeros(27182) } }));
      const it = client.fullDuplexCall(requests, { signal: ac.signal })[Symbol.asyncIterator]();
      const first = await it.next();
      check(!first.done, "cancel_after_first_response: no first response");
      ac.abort();
      await expectCode(Code.CANCELLED, () => it.next(), "cancel_after_first_response");
    },
    timeout_on_sleeping_server: async () => {
      const requests = new AsyncQueue<StreamingOutputCallRequest>();
      requests.push(create(StreamingOutputCallRequestSchema, { payload: { body: zeros(27182) } }));
      await expectCode(Code.DEADLINE_EXCEEDED, async () => {
        for await (const _ of client.fullDuplexCall(requests, { timeoutMs: 1 })) void _;
      }, "timeout_on_sleeping_server");
    },
    custom_metadata: async () => {
      const metadata = { [ECHO_INITIAL]: "test_initial_metadata_value", [ECHO_TRAILING]: new Uint8Array([0xab, 0xab, 0xab]) };
      const seen: { headers?: Metadata; trailers?: Metadata } = {};
      const opts = { metadata, onHeaders: (h: Metadata) => (seen.headers = h), onTrailers: (t: Metadata) => (seen.trailers = t) };
      await client.unaryCall({ responseSize: 314159, payload: { body: zeros(271828) } }, opts);
      checkEchoed(seen, "UnaryCall");
      seen.headers = seen.trailers = undefined;
      for await (const _ of client.fullDuplexCall(fromList([{ responseParameters: [{ size: 314159 }], payload: { body: zeros(271828) } }]), opts)) void _;
      checkEchoed(seen, "FullDuplexCall");
    },
    status_code_and_message: () => statusCase("test status message"),
    special_status_message: () => statusCase(SPECIAL_STATUS_MESSAGE, true),
    unimplemented_method: async () => {
      await expectCode(Code.UNIMPLEMENTED, () => client.unimplementedCall({}), "unimplemented_method");
    },
    unimplemented_service: async () => {
      await expectCode(Code.UNIMPLEMENTED, () => createClient(UnimplementedService, transport).unimplementedCall({}), "unimplemented_service");
    },
    client_compressed_unary: async () => {
      const req = (expect: boolean) => create(SimpleRequestSchema, { expectCompressed: { value: expect }, responseSize: 314159, payload: { body: zeros(271828) } });
      await expectCode(Code.INVALID_ARGUMENT, () => client.unaryCall(req(true)), "client_compressed_unary probe (uncompressed, expect_compressed)");
      const a = await client.unaryCall(setMessageCompression(req(true), true));
      const b = await client.unaryCall(req(false));
      check(a.payload?.body.byteLength === 314159 && b.payload?.body.byteLength === 314159, "client_compressed_unary: wrong response size");
    },
    server_compressed_unary: async () => {
      for (const compressed of [true, false]) {
        const res = await client.unaryCall({ responseCompressed: { value: compressed }, responseSize: 314159, payload: { body: zeros(271828) } });
        check(res.payload?.body.byteLength === 314159, "server_compressed_unary: wrong response size");
        check(wasReceivedCompressed(res) === compressed, `server_compressed_unary: response_compressed=${compressed} but the compressed flag was ${!compressed}`);
      }
    },
    client_compressed_streaming: async () => {
      const msg = (expect: boolean, n: number) => create(StreamingInputCallRequestSchema, { expectCompressed: { value: expect }, payload: { body: zeros(n) } });
      await expectCode(Code.INVALID_ARGUMENT, () => client.streamingInputCall(fromList([msg(true, 27182)])), "client_compressed_streaming probe");
      const gzip = createClient(TestService, transport.withOptions({ sendCompression: "gzip" }));
      const res = await gzip.streamingInputCall(fromList([msg(true, 27182), setMessageCompression(msg(false, 45904), false)]));
      check(res.aggregatedPayloadSize === 73086, `aggregated_payload_size ${res.aggregatedPayloadSize}, expected 73086`);
    },
    server_compressed_streaming: async () => {
      const got: { size: number; compressed: boolean }[] = [];
      const params = [{ compressed: { value: true }, size: 31415 }, { compressed: { value: false }, size: 92653 }];
      for await (const m of client.streamingOutputCall({ responseParameters: params })) got.push({ size: m.payload?.body.byteLength ?? -1, compressed: wasReceivedCompressed(m) });
      const want = [{ size: 31415, compressed: true }, { size: 92653, compressed: false }];
      check(sameList(got, want), `server_compressed_streaming: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    },
  };

  async function statusCase(message: string, unaryOnly = false): Promise<void> {
    const responseStatus = { code: 2, message };
    const e1 = await expectCode(Code.UNKNOWN, () => client.unaryCall({ responseStatus }), "UnaryCall with response_status");
    check(e1.rawMessage === message, `UnaryCall: status message ${JSON.stringify(e1.rawMessage)}, expected ${JSON.stringify(message)}`);
    if (unaryOnly) return;
    const e2 = await expectCode(Code.UNKNOWN, async () => {
      for await (const _ of client.fullDuplexCall(fromList([{ responseStatus }]))) void _;
    }, "FullDuplexCall with response_status");
    check(e2.rawMessage === message, `FullDuplexCall: status message ${JSON.stringify(e2.rawMessage)}, expected ${JSON.stringify(message)}`);
  }

  await cases[name]();
}

function checkEchoed(seen: { headers?: Metadata; trailers?: Metadata }, what: string): void {
  check(seen.headers?.get(ECHO_INITIAL) === "test_initial_metadata_value", `${what}: ${ECHO_INITIAL} missing from the initial metadata`);
  const bin = seen.trailers?.get(ECHO_TRAILING);
  check(bin instanceof Uint8Array && Buffer.from(bin).equals(Buffer.from([0xab, 0xab, 0xab])), `${what}: ${ECHO_TRAILING} missing from the trailing metadata`);
}

async function* fromList<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}
