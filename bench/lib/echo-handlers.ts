import { pushStream } from "../../src/rpc/response-stream.js";
import type { EchoRequest } from "../../test/gen/ferry/test/v1/echo_pb.js";

/**
 * EchoService handlers shared by the protobuf-es based contenders (Ferry and
 * Connect take the same handler shape): Echo returns the request's payload;
 * ServerStream yields `count` responses carrying it.
 */
export const echoHandlers = {
  echo(request: EchoRequest): { payload: Uint8Array } {
    return { payload: request.payload };
  },
  async *serverStream(request: EchoRequest): AsyncGenerator<{ payload: Uint8Array; index: number }> {
    for (let i = 0; i < request.count; i++) yield { payload: request.payload, index: i };
  },
};

/**
 * The same handlers for Ferry with ServerStream written push-style
 * (`pushStream`, docs/rpc.md): `send()` per message, awaiting `ready()` only
 * when the transport asks for backpressure.
 */
export const pushEchoHandlers = {
  echo: echoHandlers.echo,
  serverStream(request: EchoRequest) {
    return pushStream<{ payload: Uint8Array; index: number }>(async (out) => {
      for (let i = 0; i < request.count; i++) if (!out.send({ payload: request.payload, index: i })) await out.ready();
    });
  },
};
