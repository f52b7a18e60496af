import type { BenchClient } from "./contender-api.js";

/** The two EchoService methods of a protobuf-es based client (Ferry's and Connect's have this shape). */
export interface EchoStub {
  echo(request: { payload: Uint8Array }): Promise<{ payload: Uint8Array }>;
  serverStream(request: { payload: Uint8Array; count: number }): AsyncIterable<unknown>;
}

/** A {@link BenchClient} over an {@link EchoStub}; `close` closes the underlying transport. */
export function echoBenchClient(stub: EchoStub, close: () => Promise<void>): BenchClient {
  return {
    unary: async (payload) => (await stub.echo({ payload })).payload.length,
    serverStream: async (count, payload) => {
      let received = 0;
      for await (const _ of stub.serverStream({ payload, count })) received++;
      return received;
    },
    close,
  };
}
