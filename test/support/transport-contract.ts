/**
 * One behavioural suite for every Ferry transport (inproc, grpc, native):
 * the four method kinds, metadata and trailers, errors, deadlines,
 * cancellation, deadline propagation and UNIMPLEMENTED. A transport's spec
 * calls {@link describeTransportContract} with a factory.
 */
import { rejection } from "./rejection.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, FerryError, Metadata, type ClientTransport, type Server } from "../../src/index.js";
import { EchoService, echoImpl } from "./echo-service.js";
import { EmptyServiceSchemaless } from "./unknown-service.js";

/** Starts the transport's server side for `server`; returns a client transport to it and a cleanup. */
export type TransportSetup = (server: Server) => Promise<{ transport: ClientTransport; close(): Promise<void> }>;

export function describeTransportContract(name: string, setup: TransportSetup): void {
  describe(`transport contract: ${name}`, () => {
    let server: Server;
    let transport: ClientTransport;
    let close: () => Promise<void>;
    let client: ReturnType<typeof createClient<typeof EchoService>>;
    const logged: unknown[] = [];

    beforeAll(async () => {
      const logger = { error: (o: object, msg?: string) => logged.push({ ...o, msg }), warn() {}, info() {}, debug() {} };
      server = createServer({ logger }).service(EchoService, echoImpl);
      ({ transport, close } = await setup(server));
      client = createClient(EchoService, transport);
    });
    afterAll(async () => {
      await close();
      await server.shutdown(100);
    });

    it("unary: echoes the message, sends headers and trailers", async () => {
      let headers: Metadata | undefined;
      let trailers: Metadata | undefined;
      const bin = new Uint8Array([0, 1, 2, 250, 255]);
      const res = await client.echo(
        { text: "hello", payload: new Uint8Array([9, 8, 7]) },
        { metadata: { "x-text": "v1", "x-data-bin": bin }, onHeaders: (h) => (headers = h), onTrailers: (t) => (trailers = t) },
      );
      expect(res.text).toBe("hello");
      expect([...res.payload]).toEqual([9, 8, 7]);
      expect(headers?.get("x-text")).toBe("v1");
      expect([...(headers?.get("x-data-bin") as Uint8Array)]).toEqual([...bin]);
      expect(trailers?.get("x-text")).toBe("v1");
    });

    it("server streaming: yields every message in order", async () => {
      const got: number[] = [];
      for await (const m of client.serverStream({ text: "s", count: 50 })) got.push(m.index);
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it("server streaming: an error after messages reaches the iterator with its code", async () => {
      const got: number[] = [];
      const run = async () => {
        for await (const m of client.serverStream({ text: "late failure", count: 3, failCode: Code.ABORTED })) got.push(m.index);
      };
      await expect(run()).rejects.toMatchObject({ code: Code.ABORTED, rawMessage: "late failure" });
      expect(got).toEqual([0, 1, 2]);
    });

    it("client streaming: the handler reads every request", async () => {
      async function* reqs() {
        for (let i = 0; i < 20; i++) yield { text: String(i % 10) };
      }
      const res = await client.clientStream(reqs());
      expect(res.index).toBe(20);
      expect(res.text).toBe("01234567890123456789");
    });

    it("bidi streaming: answers each request as it comes", async () => {
      const out: string[] = [];
      async function* reqs() {
        for (const t of ["a", "b", "c"]) yield { text: t };
      }
      for await (const m of client.bidi(reqs())) out.push(`${m.index}:${m.text}`);
      expect(out).toEqual(["0:a", "1:b", "2:c"]);
    });

    it("errors: code, non-ASCII message and error metadata arrive", async () => {
      const message = "stock ünïcödé ✓ 100% gone\nline two";
      const err = await client.echo({ text: message, failCode: Code.FAILED_PRECONDITION }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FerryError);
      expect(err).toMatchObject({ code: Code.FAILED_PRECONDITION, rawMessage: message });
      expect((err as FerryError).metadata.get("x-error-md")).toBe("present");
      expect((err as FerryError).metadata.get("x-fail-trailer")).toBe("yes");
    });

    it("errors: a plain exception becomes INTERNAL without internals, and is logged", async () => {
      const err = await rejection(client.echo({ text: "throw-plain" }));
      expect(err.code).toBe(Code.INTERNAL);
      expect(err.message).not.toContain("secret");
      expect(JSON.stringify(logged)).toContain("handler failed");
    });

    it("deadlines: a slow handler fails with DEADLINE_EXCEEDED and its signal fires", async () => {
      const started = Date.now();
      const err = await rejection(client.echo({ text: "slow", delayMs: 10_000 }, { timeoutMs: 100 }));
      expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(8000);
      await waitFor(() => echoImpl.lastSignal?.aborted === true);
      expect((echoImpl.lastSignal?.reason as FerryError).code).toBe(Code.DEADLINE_EXCEEDED);
    });

    it("cancellation: aborting the caller's signal cancels the handler", async () => {
      const ac = new AbortController();
      const pending = client.echo({ text: "wait", delayMs: 5000 }, { signal: ac.signal });
      await waitFor(() => echoImpl.lastSignal !== undefined && !echoImpl.lastSignal.aborted);
      const handlerSignal = echoImpl.lastSignal!;
      ac.abort();
      await expect(pending).rejects.toMatchObject({ code: Code.CANCELLED });
      await waitFor(() => handlerSignal.aborted);
      expect((handlerSignal.reason as FerryError).code).toBe(Code.CANCELLED);
    });

    it("cancellation: leaving a server stream early cancels it on the server", async () => {
      let n = 0;
      for await (const _ of client.serverStream({ text: "x", count: 1000, delayMs: 5 })) if (++n === 3) break;
      expect(n).toBe(3);
      const next = await client.echo({ text: "still works" });
      expect(next.text).toBe("still works");
    });

    it("deadline propagation: a call made by a handler inherits the remaining deadline", async () => {
      echoImpl.relay = client;
      try {
        const started = Date.now();
        const err = await rejection(client.echo({ text: "relay", delayMs: 10_000 }, { timeoutMs: 150 }));
        expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
        expect(Date.now() - started).toBeLessThan(8000);
        await waitFor(() => echoImpl.lastSignal?.aborted === true);
      } finally {
        echoImpl.relay = undefined;
      }
    });

    it("deadline propagation: a streaming handler's body runs with its call context installed", async () => {
      const seen: string[] = [];
      for await (const m of client.serverStream({ text: "ctx-check", count: 3 })) seen.push(m.text);
      expect(seen).toEqual(["true", "true", "true"]);
    });

    it("unknown service and method: UNIMPLEMENTED", async () => {
      const other = createClient(EmptyServiceSchemaless, transport);
      const err = await rejection(other.ping({}));
      expect(err.code).toBe(Code.UNIMPLEMENTED);
    });
  });
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
