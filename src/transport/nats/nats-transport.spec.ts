import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, type ClientTransport, type Server } from "../../index.js";
import { createNatsClientTransport } from "./nats-client-transport.js";
import { checkService } from "../../../test/support/services.js";
import { echoImpl } from "../../../test/support/echo-service.js";
import { EchoService } from "../../../test/gen/ferry/test/v1/echo_pb.js";

const check = await checkService("NATS", "127.0.0.1", 4222);

describe.skipIf(check.skip)("nats transport (request/reply)", () => {
  const prefix = `t${randomBytes(4).toString("hex")}.rpc`;
  const url = `nats://127.0.0.1:4222?prefix=${prefix}`;
  let servers: Server[] = [];
  const served = [0, 0];
  let client: ReturnType<typeof createClient<typeof EchoService>>;
  const transports: ClientTransport[] = [];

  beforeAll(async () => {
    servers = [0, 1].map((i) =>
      createServer({
        interceptors: [
          (next) => (req) => {
            served[i]++;
            return next(req);
          },
        ],
      }),
    );
    for (const s of servers) {
      s.service(EchoService, echoImpl);
      await s.listen(url);
    }
    transports.push(await createNatsClientTransport(new URL(url)));
    client = createClient(EchoService, transports[0]);
  });

  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await Promise.all(servers.map((s) => s.shutdown(1000)));
  });

  describe("call()", () => {
    it("is what a nats:// target selects", async () => {
      const viaUrl = createClient(EchoService, url);
      expect((await viaUrl.echo({ text: "by url" })).text).toBe("by url");
    });

    it("carries a unary call and its metadata to a server known only by a NATS subject", async () => {
      let headers: Record<string, string[]> = {};
      const res = await client.echo(
        { text: "hello", payload: new Uint8Array([1, 2, 3]) },
        { metadata: { "x-token": "abc", "x-bin": new Uint8Array([9, 8]) }, onHeaders: (h) => (headers = h.toJSON()) },
      );
      expect(res.text).toBe("hello");
      expect([...res.payload]).toEqual([1, 2, 3]);
      expect(headers["x-token"]).toEqual(["abc"]);
      expect(headers["x-bin"]).toEqual([Buffer.from([9, 8]).toString("base64")]);
    });

    it("returns the handler's status code, message and trailers", async () => {
      const err = await client.echo({ text: "no such order", failCode: Code.NOT_FOUND }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FerryError);
      expect((err as FerryError).code).toBe(Code.NOT_FOUND);
      expect((err as FerryError).rawMessage).toBe("no such order");
      expect((err as FerryError).metadata.get("x-error-md")).toBe("present");
    });

    it("hides a plain exception's text behind INTERNAL", async () => {
      await expect(client.echo({ text: "throw-plain" })).rejects.toMatchObject({ code: Code.INTERNAL, rawMessage: "internal error" });
    });

    it("sends the deadline: the server cancels the handler and the client gets DEADLINE_EXCEEDED", async () => {
      await expect(client.echo({ text: "slow", delayMs: 2000 }, { timeoutMs: 200 })).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED });
    });

    it("answers UNAVAILABLE at once when no server listens on the subject", async () => {
      const transport = await createNatsClientTransport(new URL(`nats://127.0.0.1:4222?prefix=${prefix}.nobody`));
      transports.push(transport);
      const nobody = createClient(EchoService, transport);
      await expect(nobody.echo({ text: "x" })).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    });

    it("refuses streaming methods with UNIMPLEMENTED", async () => {
      const stream = client.serverStream({ text: "s", count: 2 });
      await expect((async () => {
        for await (const _ of stream) void _;
      })()).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
    });

    it("spreads calls over every server in the queue group", async () => {
      const before = [...served];
      const results = await Promise.all(Array.from({ length: 40 }, () => client.echo({ text: "x" })));
      expect(results).toHaveLength(40);
      expect(served[0] - before[0] + served[1] - before[1]).toBe(40);
      expect(served[0]).toBeGreaterThan(before[0]);
      expect(served[1]).toBeGreaterThan(before[1]);
    });
  });
});
