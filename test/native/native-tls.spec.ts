/**
 * TLS and mTLS on the native transport: the transport contract over TLS,
 * client certificate verification, the peer certificate in handlers,
 * certificate reload without restart, and TLS failures surfacing as
 * UNAVAILABLE (never a hang). Certificates come from the grpc transport's
 * throw-away CA helper.
 */
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server, type ServiceImpl } from "../../src/index.js";
import { clientTransportFromUrl } from "../../src/rpc/transport-registry.js";
import { createThrowawayCa, grpcPeerCertificate, type ThrowawayCa } from "../../src/transport/grpc/index.js";
import {
  createNativeServerTransport,
  createNativeTransport,
  peerCertificate,
  type NativeClientOptions,
  type NativeServerOptions,
  type NativeServerTransport,
} from "../../src/transport/native/index.js";
import { EchoService, echoImpl } from "../support/echo-service.js";
import { rejection } from "../support/rejection.js";
import { describeTransportContract } from "../support/transport-contract.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ca: ThrowawayCa = createThrowawayCa();
const other: ThrowawayCa = createThrowawayCa({ commonName: "Other CA" });

describeTransportContract("native over TLS", async (server) => {
  const { url } = await server.listen(createNativeServerTransport({ port: 0, tls: ca.issue() }));
  const transport = createNativeTransport({ port: Number(new URL(url).port), tls: { ca: ca.cert } });
  return { transport, close: () => transport.close() };
});

describeTransportContract("native over mTLS (2 connections)", async (server) => {
  const tlsOptions = { ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: true };
  const { url } = await server.listen(createNativeServerTransport({ port: 0, tls: tlsOptions }));
  const transport = createNativeTransport({ port: Number(new URL(url).port), connections: 2, tls: { ca: ca.cert, ...ca.issue({ commonName: "contract" }) } });
  return { transport, close: () => transport.close() };
});

/** Answers with the caller's certificate CN, whether it was verified, and the caller's address (one per connection). */
const whoImpl: ServiceImpl<typeof EchoService> = {
  ...echoImpl,
  echo: (_req, ctx) => {
    const cert = ctx.values.get(peerCertificate);
    return { text: `${cert?.subject.CN ?? "-"}/${cert?.authorized ?? "-"}/${ctx.peer}` };
  },
};

interface Started {
  server: Server;
  transport: NativeServerTransport;
  port: number;
  url: string;
}

async function start(tlsOptions: NativeServerOptions["tls"], options: NativeServerOptions = {}): Promise<Started> {
  const server = createServer({ logger: quiet }).service(EchoService, whoImpl);
  const transport = createNativeServerTransport({ port: 0, tls: tlsOptions, ...options });
  const { url } = await server.listen(transport);
  return { server, transport, port: Number(new URL(url).port), url };
}

/** Makes one call on a fresh client transport and closes it. */
async function who(port: number, tlsOptions: NativeClientOptions["tls"], options: NativeClientOptions = {}): Promise<string> {
  const t = createNativeTransport({ host: "localhost", port, tls: tlsOptions, logger: quiet, ...options });
  try {
    return (await createClient(EchoService, t).echo({ text: "x" })).text;
  } finally {
    await t.close();
  }
}

describe("native transport TLS", () => {
  describe("server certificate", () => {
    let s: Started;
    beforeAll(async () => {
      s = await start(ca.issue());
    });
    afterAll(() => s.server.shutdown(100));

    it("listens on a natives:// URL and serves a client that trusts the CA", async () => {
      expect(s.url).toMatch(/^natives:\/\/127\.0\.0\.1:\d+$/);
      expect(await who(s.port, { ca: ca.cert })).toMatch(/^-\/-\//);
    });

    it("checks an IP address target against the certificate's IP subjectAltName", async () => {
      const t = createNativeTransport({ host: "127.0.0.1", port: s.port, tls: { ca: ca.cert } });
      expect((await createClient(EchoService, t).echo({ text: "x" })).text).toMatch(/^-/);
      await t.close();
    });

    it("a client that does not trust the CA fails with UNAVAILABLE naming the TLS error", async () => {
      const err = await rejection(who(s.port, { ca: other.cert }));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/TLS handshake failed: .*certificate/);
    });

    it("a client checking another host name fails with UNAVAILABLE", async () => {
      const err = await rejection(who(s.port, { ca: ca.cert, servername: "elsewhere.example" }));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/elsewhere\.example/);
    });

    it("a natives:// target checks the system CAs, which do not include the throw-away CA", async () => {
      const t = await clientTransportFromUrl(`natives://localhost:${s.port}`);
      const err = await rejection(createClient(EchoService, t).echo({ text: "x" }));
      await t.close();
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/TLS handshake failed/);
    });

    it("a cleartext client fails with UNAVAILABLE", async () => {
      const err = await rejection(who(s.port, undefined));
      expect(err.code).toBe(Code.UNAVAILABLE);
    });

    it("carries large messages and server streams over TLS", async () => {
      const t = createNativeTransport({ port: s.port, tls: { ca: ca.cert } });
      const c = createClient(EchoService, t);
      const payload = new Uint8Array(3 << 20).fill(7);
      const got = await c.serverStream({ text: "big", count: 3, payload });
      let n = 0;
      for await (const m of got) n += m.payload.length;
      await t.close();
      expect(n).toBe(3 * payload.length);
    });
  });

  it("a TLS client to a cleartext server fails with UNAVAILABLE", async () => {
    const s = await start(undefined);
    try {
      expect(s.url).toMatch(/^native:\/\//);
      const err = await rejection(who(s.port, { ca: ca.cert }));
      expect(err.code).toBe(Code.UNAVAILABLE);
    } finally {
      await s.server.shutdown(100);
    }
  });

  it('server.listen("natives://…") without certificates is INVALID_ARGUMENT', async () => {
    const err = await rejection(createServer({ logger: quiet }).listen("natives://127.0.0.1:0"));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.rawMessage).toMatch(/createNativeServerTransport/);
  });

  describe("mTLS", () => {
    let s: Started;
    beforeAll(async () => {
      s = await start({ ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    });
    afterAll(() => s.server.shutdown(100));

    it("accepts a client certificate signed by the trusted CA and gives handlers its certificate", async () => {
      expect(await who(s.port, { ca: ca.cert, ...ca.issue({ commonName: "billing" }) })).toMatch(/^billing\/true\//);
    });

    it("rejects a client without a certificate with UNAVAILABLE", async () => {
      const err = await rejection(who(s.port, { ca: ca.cert }));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/TLS handshake failed: .*certificate required/);
    });

    it("rejects a client certificate from another CA with UNAVAILABLE", async () => {
      const err = await rejection(who(s.port, { ca: ca.cert, ...other.issue({ commonName: "intruder" }) }));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/TLS handshake failed/);
    });

    it("with rejectUnauthorized: false, lets the call through and reports authorized: false", async () => {
      const lax = await start({ ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: false });
      try {
        expect(await who(lax.port, { ca: ca.cert, ...other.issue({ commonName: "stranger" }) })).toMatch(/^stranger\/false\//);
        expect(await who(lax.port, { ca: ca.cert })).toMatch(/^-\/-\//);
      } finally {
        await lax.server.shutdown(100);
      }
    });

    it("grpcPeerCertificate is the same key (one helper for both transports)", () => {
      expect(grpcPeerCertificate).toBe(peerCertificate);
    });
  });

  describe("setSecureContext()", () => {
    it("switches new connections to a new certificate and CA while an existing connection keeps working", async () => {
      const s = await start({ ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: true });
      const kept = createNativeTransport({ host: "localhost", port: s.port, tls: { ca: ca.cert, ...ca.issue({ commonName: "kept" }) } });
      try {
        const keptClient = createClient(EchoService, kept);
        const before = (await keptClient.echo({ text: "x" })).text;
        expect(before).toMatch(/^kept\/true\//);

        s.transport.setSecureContext({ ...other.issue(), ca: other.cert });

        expect((await keptClient.echo({ text: "x" })).text).toBe(before); // same connection (same peer address), still served
        expect(await who(s.port, { ca: other.cert, ...other.issue({ commonName: "renewed" }) })).toMatch(/^renewed\/true\//);
        expect((await rejection(who(s.port, { ca: ca.cert, ...ca.issue({ commonName: "old" }) }))).code).toBe(Code.UNAVAILABLE);
        expect((await keptClient.echo({ text: "x" })).text).toBe(before);
      } finally {
        await kept.close();
        await s.server.shutdown(100);
      }
    });

    it("raises FAILED_PRECONDITION on a cleartext server", async () => {
      const s = await start(undefined);
      try {
        expect(() => s.transport.setSecureContext({})).toThrow(/needs a started native server with tls/);
      } finally {
        await s.server.shutdown(100);
      }
    });
  });

  describe("timeouts, keepalive, limits and drain", () => {
    it("a server that never completes the TLS handshake fails the call with UNAVAILABLE after connectTimeoutMs", async () => {
      const sockets: net.Socket[] = [];
      const silent = net.createServer((sock) => sockets.push(sock));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const port = (silent.address() as net.AddressInfo).port;
      try {
        const err = await rejection(who(port, { ca: ca.cert }, { connectTimeoutMs: 300 }));
        expect(err.code).toBe(Code.UNAVAILABLE);
        expect(err.rawMessage).toMatch(/within 300 ms/);
      } finally {
        for (const sock of sockets) sock.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it("the server closes a connection that does not complete the TLS handshake within handshakeTimeoutMs", async () => {
      const s = await start(ca.issue(), { handshakeTimeoutMs: 300 });
      try {
        const sock = net.connect(s.port, "127.0.0.1");
        const closed = await new Promise<boolean>((resolve) => {
          sock.on("error", () => {});
          sock.on("close", () => resolve(true));
        });
        expect(closed).toBe(true);
      } finally {
        await s.server.shutdown(100);
      }
    });

    it("the server closes a TLS peer that completes the handshake but never sends the preface", async () => {
      const s = await start(ca.issue(), { handshakeTimeoutMs: 300 });
      try {
        const sock = tls.connect({ port: s.port, host: "127.0.0.1", ca: ca.cert });
        await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
        await new Promise<void>((resolve) => {
          sock.on("error", () => {});
          sock.on("close", () => resolve());
          sock.resume();
        });
        expect(sock.destroyed).toBe(true);
      } finally {
        await s.server.shutdown(100);
      }
    });

    it("keepalive PINGs are answered over TLS: an idle connection with short timeouts stays up", async () => {
      const s = await start(ca.issue(), { keepaliveIntervalMs: 100, keepaliveTimeoutMs: 150 });
      const t = createNativeTransport({ host: "localhost", port: s.port, tls: { ca: ca.cert }, keepaliveIntervalMs: 100, keepaliveTimeoutMs: 150, logger: quiet });
      try {
        const c = createClient(EchoService, t);
        const first = (await c.echo({ text: "x" })).text;
        await new Promise((r) => setTimeout(r, 600));
        expect((await c.echo({ text: "x" })).text).toBe(first); // same client address: the same connection
      } finally {
        await t.close();
        await s.server.shutdown(100);
      }
    });

    it("a message over the server's limit fails its call with RESOURCE_EXHAUSTED; the TLS connection stays up", async () => {
      const server = createServer({ logger: quiet, maxReceiveMessageBytes: 1 << 20 }).service(EchoService, whoImpl);
      const { url } = await server.listen(createNativeServerTransport({ port: 0, tls: ca.issue() }));
      const t = createNativeTransport({ host: "localhost", port: Number(new URL(url).port), tls: { ca: ca.cert }, logger: quiet });
      try {
        const c = createClient(EchoService, t);
        const first = (await c.echo({ text: "x" })).text;
        const err = await rejection(c.echo({ text: "x", payload: new Uint8Array(2 << 20) }));
        expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
        expect((await c.echo({ text: "x" })).text).toBe(first);
      } finally {
        await t.close();
        await server.shutdown(100);
      }
    });

    it("drains gracefully over TLS: an in-flight call completes, new calls are refused", async () => {
      const server = createServer({ logger: quiet }).service(EchoService, echoImpl);
      const { url } = await server.listen(createNativeServerTransport({ port: 0, tls: ca.issue() }));
      const t = createNativeTransport({ port: Number(new URL(url).port), tls: { ca: ca.cert }, keepaliveIntervalMs: 100 });
      const c = createClient(EchoService, t);
      try {
        const slow = c.echo({ text: "slow", delayMs: 300 });
        await new Promise((r) => setTimeout(r, 50));
        const down = server.shutdown(5000);
        expect((await slow).text).toBe("slow");
        await down;
        expect((await rejection(c.echo({ text: "late" }))).code).toBe(Code.UNAVAILABLE);
      } finally {
        await t.close();
      }
    });
  });
});
