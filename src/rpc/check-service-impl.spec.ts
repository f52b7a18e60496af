import { describe, expect, it } from "vitest";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { Code, createServer, FerryError } from "../index.js";

function rejection(fn: () => unknown): FerryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  throw new Error("expected a FerryError");
}

describe("Server.service()", () => {
  it("rejects a handler named after the proto method (Echo) instead of its localName (echo), listing the expected names", () => {
    const err = rejection(() => createServer().service(EchoService, { Echo: () => ({}) } as never));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.rawMessage).toBe(
      'implementation of ferry.test.v1.EchoService has "Echo", which matches no method; expected handler names: echo, serverStream, clientStream, bidi',
    );
  });

  it("rejects any unknown function key on a plain object", () => {
    const err = rejection(() => createServer().service(EchoService, { echo: () => ({}), ecko: () => ({}) } as never));
    expect(err.rawMessage).toContain('"ecko"');
  });

  it("accepts a partial implementation (missing methods answer UNIMPLEMENTED) and non-function fields", () => {
    expect(() => createServer().service(EchoService, { echo: () => ({}), note: "state" } as never)).not.toThrow();
  });

  it("accepts a class instance with helper methods, but not one whose names match no method", () => {
    class Impl {
      echo() {
        return { text: this.helper() };
      }
      helper() {
        return "x";
      }
    }
    class Wrong {
      ServerStream() {
        return {};
      }
    }
    expect(() => createServer().service(EchoService, new Impl())).not.toThrow();
    const err = rejection(() => createServer().service(EchoService, new Wrong() as never));
    expect(err.rawMessage).toContain('"ServerStream"');
  });
});

describe("Server[Symbol.asyncDispose]", () => {
  it("shuts the server down", async () => {
    const server = createServer().service(EchoService, { echo: () => ({}) });
    await server.listen("grpc://127.0.0.1:0");
    await server[Symbol.asyncDispose]();
    expect(server.state).toBe("stopped");
  });
});
