import { describe, expect, it, vi } from "vitest";
import { echoRequest, FakeCallHandler } from "../../test/support/fake-call-handler.js";
import { rejection } from "../../test/support/rejection.js";
import type { StreamResponse, UnaryResponse } from "../rpc/call.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { circuitOpenError } from "./circuit-open-error.js";
import { ResilienceEvents } from "./events.js";
import { createFallbackInterceptor, FallbackPolicy } from "./fallback.js";

const textOf = (res: unknown) => ((res as UnaryResponse).message as unknown as { text: string }).text;

describe("FallbackPolicy", () => {
  describe("execute()", () => {
    it("answers a failure with one of its codes with the handler's result", async () => {
      const events = new ResilienceEvents();
      const used = vi.fn();
      events.on("fallback.used", used);
      const policy = new FallbackPolicy({ handler: (e) => `degraded (${Code[e.code]})`, events });
      expect(await policy.execute(async () => Promise.reject(new FerryError(Code.UNAVAILABLE, "down")))).toBe("degraded (UNAVAILABLE)");
      expect(used).toHaveBeenCalledTimes(1);
    });

    it("lets other failures through", async () => {
      const policy = new FallbackPolicy({ handler: () => "degraded" });
      expect((await rejection(policy.execute(async () => Promise.reject(new FerryError(Code.NOT_FOUND, "no")))))).toMatchObject({ code: Code.NOT_FOUND });
    });

    it("answers a circuit breaker's rejection even when UNAVAILABLE is not in its codes", async () => {
      const policy = new FallbackPolicy({ handler: () => "degraded", codes: [Code.INTERNAL] });
      expect(await policy.execute(async () => Promise.reject(circuitOpenError("b", "open", 10)))).toBe("degraded");
    });

    it("never answers a call the caller cancelled", async () => {
      const caller = new AbortController();
      caller.abort();
      const policy = new FallbackPolicy({ handler: () => "degraded", codes: [Code.CANCELLED] });
      const err = await rejection(policy.execute(async () => Promise.reject(new FerryError(Code.CANCELLED, "gone")), { signal: caller.signal }));
      expect(err.code).toBe(Code.CANCELLED);
    });

    it("fails with the handler's error when the handler throws", async () => {
      const policy = new FallbackPolicy({ handler: () => { throw new FerryError(Code.FAILED_PRECONDITION, "no fallback today"); } });
      expect((await rejection(policy.execute(async () => Promise.reject(new FerryError(Code.UNAVAILABLE, "x")))))).toMatchObject({ code: Code.FAILED_PRECONDITION });
    });
  });
});

describe("createFallbackInterceptor()", () => {
  it("answers with a static response message of the method's output type, marked by a trailer", async () => {
    const fake = new FakeCallHandler((call) => call.reject(new FerryError(Code.UNAVAILABLE, "down")));
    const handler = createFallbackInterceptor({ response: { text: "cached" } })(fake.handler);
    const res = (await handler(echoRequest())) as UnaryResponse;
    expect(textOf(res)).toBe("cached");
    expect(res.trailers.get("ferry-fallback")).toBe("UNAVAILABLE");
  });

  it("computes the response from the error and the request", async () => {
    const fake = new FakeCallHandler((call) => call.reject(new FerryError(Code.DEADLINE_EXCEEDED, "slow")));
    const handler = createFallbackInterceptor({
      response: (error, request) => ({ text: `${Code[error.code]} for ${request.method.path}` }),
    })(fake.handler);
    expect(textOf(await handler(echoRequest()))).toBe("DEADLINE_EXCEEDED for /ferry.test.v1.EchoService/Echo");
  });

  it("answers a server-streaming method with a stream of the one message", async () => {
    const fake = new FakeCallHandler((call) => call.reject(new FerryError(Code.UNAVAILABLE, "down")));
    const res = (await createFallbackInterceptor({ response: { text: "only" } })(fake.handler)(echoRequest({ method: "serverStream" }))) as StreamResponse;
    const texts: string[] = [];
    for await (const m of res.messages) texts.push((m as unknown as { text: string }).text);
    expect(texts).toEqual(["only"]);
  });
});
