import { create } from "@bufbuild/protobuf";
import { EchoService, EchoResponseSchema, type EchoRequest } from "../gen/ferry/test/v1/echo_pb.js";
import { Code, currentCallContext, FerryError, type ServiceImpl, type CallContext } from "../../src/index.js";

/** Waits `ms`, or rejects with the context's abort reason when the call is cancelled. */
function sleep(ms: number, ctx: CallContext): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(ctx.signal.reason);
    const t = setTimeout(resolve, ms);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(t);
      reject(ctx.signal.reason);
    }, { once: true });
  });
}

async function fail(req: EchoRequest, ctx: CallContext): Promise<void> {
  if (req.delayMs > 0) await sleep(req.delayMs, ctx);
  if (req.failCode !== 0) {
    ctx.responseTrailers.set("x-fail-trailer", "yes");
    throw new FerryError(req.failCode as Code, req.text || "requested failure", { metadata: { "x-error-md": "present" } });
  }
}

/**
 * The test EchoService: echoes text and payload, copies `x-*` request
 * metadata to response headers and trailers, fails on request.
 */
export const echoImpl: ServiceImpl<typeof EchoService> & {
  lastSignal?: AbortSignal;
  /** When set, a request with text "relay" is forwarded through it (deadline propagation tests). */
  relay?: { echo(req: { text: string; delayMs: number }): Promise<{ text: string }> };
} = {
  async echo(req, ctx) {
    if (req.text === "relay" && echoImpl.relay) {
      const inner = await echoImpl.relay.echo({ text: "relayed", delayMs: req.delayMs });
      return { text: inner.text };
    }
    echoImpl.lastSignal = ctx.signal;
    for (const [k, v] of ctx.requestMetadata) {
      if (k.startsWith("x-")) {
        ctx.responseHeaders.append(k, v);
        ctx.responseTrailers.append(k, v);
      }
    }
    await fail(req, ctx);
    if (req.text === "throw-plain") throw new Error("secret internal detail");
    return { text: req.text, payload: req.payload };
  },
  async *serverStream(req, ctx) {
    if (req.text === "ctx-check") {
      // Deadline propagation inside a streaming handler: the call context is installed around its body.
      for (let i = 0; i < req.count; i++) {
        await new Promise((r) => setImmediate(r));
        yield { text: String(currentCallContext() === ctx), index: i };
      }
      return;
    }
    for (let i = 0; i < req.count; i++) {
      if (req.delayMs > 0) await sleep(req.delayMs, ctx);
      yield create(EchoResponseSchema, { text: req.text, index: i, payload: req.payload });
    }
    if (req.failCode !== 0) throw new FerryError(req.failCode as Code, req.text || "stream failed");
  },
  async clientStream(reqs, ctx) {
    let text = "";
    let n = 0;
    for await (const r of reqs) {
      text += r.text;
      n++;
      if (r.failCode !== 0) await fail(r, ctx);
    }
    return { text, index: n };
  },
  async *bidi(reqs, ctx) {
    let i = 0;
    for await (const r of reqs) {
      await fail(r, ctx);
      yield { text: r.text, index: i++ };
    }
  },
};

export { EchoService };
