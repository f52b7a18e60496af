import { describe, expect, it } from "vitest";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { closeClient, Code, createClient, createInProcessTransport, createServer } from "../index.js";
import type { AnyRequest, ClientTransport } from "../index.js";

describe("closeClient()", () => {
  it("closes the transport a client created from a URL; later calls fail with UNAVAILABLE", async () => {
    const server = createServer().service(EchoService, { echo: ({ text }) => ({ text }) });
    const { url } = await server.listen("grpc://127.0.0.1:0");
    const client = createClient(EchoService, url);
    expect((await client.echo({ text: "a" })).text).toBe("a");
    await closeClient(client);
    await expect(client.echo({ text: "b" })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    await server.shutdown(0);
  });

  it("is a no-op for a client made from a transport object (the caller owns it) and before any call", async () => {
    const server = createServer().service(EchoService, { echo: ({ text }) => ({ text }) });
    let closes = 0;
    const inner = createInProcessTransport(server);
    const transport: ClientTransport = { call: (req: AnyRequest) => inner.call(req), close: async () => void closes++ };
    const client = createClient(EchoService, transport);
    await closeClient(client);
    expect(closes).toBe(0);
    expect((await client.echo({ text: "still" })).text).toBe("still");
    await closeClient(createClient(EchoService, "grpc://127.0.0.1:1"));
  });
});
