import { describe, expect, it } from "vitest";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { Code, createClient, createInProcessTransport, createServer, FerryError } from "../index.js";
import type { Logger } from "../util/logger.js";

const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/** A streaming handler's outcomes as the client sees them: messages received, then the error (if any). */
async function collect(handler: (req: { count: number }) => AsyncIterable<unknown>): Promise<{ texts: string[]; error: FerryError | undefined }> {
  const server = createServer({ logger: silentLogger }).service(EchoService, { serverStream: handler as never });
  const client = createClient(EchoService, createInProcessTransport(server));
  const texts: string[] = [];
  try {
    for await (const m of client.serverStream({ count: 3 })) texts.push(m.text);
    return { texts, error: undefined };
  } catch (err) {
    return { texts, error: err as FerryError };
  }
}

describe("Router.normalizeStream (server streaming)", () => {
  it("turns each yielded init shape into a message, in order", async () => {
    const r = await collect(async function* (req) {
      for (let i = 0; i < req.count; i++) yield { text: `m${i}` };
    });
    expect(r).toEqual({ texts: ["m0", "m1", "m2"], error: undefined });
  });

  it("a plain exception after some messages reaches the client as INTERNAL, after those messages", async () => {
    const r = await collect(async function* () {
      yield { text: "first" };
      throw new TypeError("secret detail");
    });
    expect(r.texts).toEqual(["first"]);
    expect(r.error?.code).toBe(Code.INTERNAL);
    expect(r.error?.rawMessage).not.toMatch(/secret/);
  });

  it("a FerryError passes through with its code", async () => {
    const r = await collect(async function* () {
      yield { text: "first" };
      throw new FerryError(Code.RESOURCE_EXHAUSTED, "quota");
    });
    expect(r.error?.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(r.error?.rawMessage).toBe("quota");
  });

  it("yielding something that is not a message is INVALID_ARGUMENT naming the type", async () => {
    const r = await collect(async function* () {
      yield { text: "ok" };
      yield null;
    });
    expect(r.texts).toEqual(["ok"]);
    expect(r.error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(r.error?.rawMessage).toMatch(/ferry\.test\.v1\.EchoResponse/);
  });

  it("an iterator whose next() throws synchronously fails the call instead of the process", async () => {
    const r = await collect(() => ({
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw new Error("sync boom");
        },
      }),
    }));
    expect(r.error?.code).toBe(Code.INTERNAL);
  });
});
