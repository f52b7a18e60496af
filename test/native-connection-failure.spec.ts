import { createServer as createTcpServer, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { Code, createChannel, createClient, createResolver, createServer, FerryError, type Server } from "../src/index.js";
import { clientTransportFromUrl } from "../src/rpc/transport-registry.js";
import { echoImpl, EchoService } from "./support/echo-service.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

function rootCode(error: unknown): unknown {
  return ((error as FerryError).cause as { code?: unknown } | undefined)?.code;
}

describe("native transport › connection failures", () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.shutdown(0))));

  it("fails a call whose connection was refused with UNAVAILABLE caused by ECONNREFUSED", async () => {
    const client = createClient(EchoService, await clientTransportFromUrl("native://127.0.0.1:1"));
    const error = await client.echo({ text: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Code.UNAVAILABLE });
    expect(rootCode(error)).toBe("ECONNREFUSED");
  });

  it("fails an in-flight call whose connection was cut with UNAVAILABLE that carries a cause (a connection error, not a status)", async () => {
    // A TCP server that accepts and then resets the connection once the call arrived.
    const sockets: Socket[] = [];
    const tcp = createTcpServer((s) => {
      sockets.push(s);
      s.once("data", () => setTimeout(() => s.resetAndDestroy(), 20));
    });
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const port = (tcp.address() as { port: number }).port;
    const client = createClient(EchoService, await clientTransportFromUrl(`native://127.0.0.1:${port}`));
    const error = await client.echo({ text: "x" }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    tcp.close();
    expect(error).toMatchObject({ code: Code.UNAVAILABLE });
    expect((error as FerryError).cause).toBeInstanceOf(Error);
  });

  it("lets a channel send calls refused by a stopped instance to the live one (transparent retry): no call fails", async () => {
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const server = createServer({ logger: quiet }).service(EchoService, echoImpl);
      servers.push(server);
      urls.push((await server.listen("native://127.0.0.1:0")).url);
    }
    const channel = createChannel({ resolver: createResolver(`static:///${urls.join(",")}`), outlierDetection: false });
    const client = createClient(EchoService, channel);
    for (let i = 0; i < 10; i++) await client.echo({ text: "warm" });
    await servers[1]!.shutdown(0);
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => client.echo({ text: "after" })));
    await channel.close();
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
  });
});
