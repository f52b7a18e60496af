import { describe, expect, it } from "vitest";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { createClient, createInProcessTransport, createServer, currentCallContext, type Interceptor } from "../index.js";

/**
 * An outer server whose Echo handler calls an inner server; an interceptor on
 * the inner client records the deadline each nested call carries.
 */
function relay(implicitCallContext: boolean | undefined, passParent: boolean) {
  const seen: { nestedDeadline: number | undefined; outerDeadline: number | undefined; current: boolean }[] = [];
  let nestedDeadline: number | undefined;
  const record: Interceptor = (next) => (req) => {
    nestedDeadline = req.deadline;
    return next(req);
  };
  const inner = createServer().service(EchoService, { echo: (req) => ({ text: req.text }) });
  const innerClient = createClient(EchoService, createInProcessTransport(inner), { interceptors: [record] });
  const outer = createServer(implicitCallContext === undefined ? {} : { implicitCallContext }).service(EchoService, {
    async echo(req, ctx) {
      await Promise.resolve();
      const res = await innerClient.echo({ text: req.text }, passParent ? { parent: ctx } : {});
      seen.push({ nestedDeadline, outerDeadline: ctx.deadline, current: currentCallContext() === ctx });
      return res;
    },
  });
  return { client: createClient(EchoService, createInProcessTransport(outer)), seen };
}

describe("ServerOptions.implicitCallContext", () => {
  it("default (true): a call made after an await inherits the handler's deadline; currentCallContext() is the handler's", async () => {
    const { client, seen } = relay(undefined, false);
    await client.echo({ text: "a" }, { timeoutMs: 60_000 });
    expect(seen[0].outerDeadline).toBeTypeOf("number");
    expect(seen[0].nestedDeadline).toBe(seen[0].outerDeadline);
    expect(seen[0].current).toBe(true);
  });

  it("false: no implicit inheritance and no current context", async () => {
    const { client, seen } = relay(false, false);
    await client.echo({ text: "a" }, { timeoutMs: 60_000 });
    expect(seen[0].outerDeadline).toBeTypeOf("number");
    expect(seen[0].nestedDeadline).toBeUndefined();
    expect(seen[0].current).toBe(false);
  });

  it("false: `parent: ctx` still propagates the deadline", async () => {
    const { client, seen } = relay(false, true);
    await client.echo({ text: "a" }, { timeoutMs: 60_000 });
    expect(seen[0].nestedDeadline).toBe(seen[0].outerDeadline);
  });
});
