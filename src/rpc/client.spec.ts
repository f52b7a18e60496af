import { describe, expect, it } from "vitest";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { Code, createClient, createInProcessTransport, createServer, FerryError, type Metadata } from "../index.js";

function echoClient() {
  const server = createServer().service(EchoService, {
    echo(req, ctx) {
      ctx.responseHeaders.set("x-h", "1");
      ctx.responseTrailers.set("x-t", "2");
      return { text: req.text };
    },
  });
  return createClient(EchoService, createInProcessTransport(server));
}

describe("client unary calls", () => {
  it("reject (never throw) with INVALID_ARGUMENT for a request that is not an object", async () => {
    const client = echoClient();
    let call: Promise<unknown> | undefined;
    expect(() => (call = client.echo(null as never))).not.toThrow();
    const err = await call!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe(Code.INVALID_ARGUMENT);
    expect((err as FerryError).rawMessage).toMatch(/expected a ferry\.test\.v1\.EchoRequest message, got null/);
  });

  it("reject with INVALID_ARGUMENT for a negative timeoutMs", async () => {
    const err = await echoClient().echo({ text: "x" }, { timeoutMs: -1 }).catch((e: unknown) => e);
    expect((err as FerryError).code).toBe(Code.INVALID_ARGUMENT);
    expect((err as FerryError).rawMessage).toMatch(/timeoutMs/);
  });

  it("resolve with the response and report headers, then trailers", async () => {
    const seen: string[] = [];
    const res = await echoClient().echo(
      { text: "hi" },
      {
        onHeaders: (h: Metadata) => seen.push(`headers x-h=${String(h.get("x-h"))}`),
        onTrailers: (t: Metadata) => seen.push(`trailers x-t=${String(t.get("x-t"))}`),
      },
    );
    expect(res.text).toBe("hi");
    expect(seen).toEqual(["headers x-h=1", "trailers x-t=2"]);
  });
});
