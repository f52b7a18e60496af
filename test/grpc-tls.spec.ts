/**
 * TLS and mTLS on the grpc transport: server certificates, client
 * certificate verification, certificate reload without restart, and the
 * throw-away CA helper. Also against @grpc/grpc-js.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createClient, createServer, type Server } from "../src/index.js";
import { createGrpcServerTransport, createGrpcTransport, createThrowawayCa, grpcPeerCertificate, type GrpcServerOptions, type GrpcServerTransport, type ThrowawayCa } from "../src/transport/grpc/index.js";
import { EchoService, echoImpl } from "./support/echo-service.js";
import { GrpcJsEchoClient } from "./support/grpc-js-echo.js";
import { rejection } from "./support/rejection.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

describe("grpc TLS", () => {
  let ca: ThrowawayCa;
  let other: ThrowawayCa;

  beforeAll(() => {
    ca = createThrowawayCa();
    other = createThrowawayCa({ commonName: "Other CA" });
  });

  async function start(tls: GrpcServerOptions["tls"]): Promise<{ server: Server; transport: GrpcServerTransport; port: number; url: string }> {
    const server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    const transport = createGrpcServerTransport({ port: 0, tls });
    const { url } = await server.listen(transport);
    return { server, transport, port: Number(new URL(url).port), url };
  }

  async function echo(port: number, tls: object): Promise<string> {
    const t = createGrpcTransport({ baseUrl: `grpcs://localhost:${port}`, tls });
    try {
      return (await createClient(EchoService, t).echo({ text: "over tls" })).text;
    } finally {
      await t.close();
    }
  }

  describe("server certificate", () => {
    let s: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      s = await start(ca.issue());
    });
    afterAll(() => s.server.shutdown(100));

    it("listens on a grpcs:// URL and serves a client that trusts the CA", async () => {
      expect(s.url).toMatch(/^grpcs:\/\/127\.0\.0\.1:\d+$/);
      expect(await echo(s.port, { ca: ca.cert })).toBe("over tls");
    });

    it("a client that does not trust the CA fails with UNAVAILABLE", async () => {
      const err = await rejection(echo(s.port, { ca: other.cert }));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.rawMessage).toMatch(/certificate/);
    });

    it("a client checking another host name fails with UNAVAILABLE", async () => {
      const err = await rejection(echo(s.port, { ca: ca.cert, servername: "elsewhere.example" }));
      expect(err.code).toBe(Code.UNAVAILABLE);
    });

    it("serves a @grpc/grpc-js client over TLS", async () => {
      const client: any = new GrpcJsEchoClient(`localhost:${s.port}`, grpc.credentials.createSsl(Buffer.from(ca.cert)));
      const res = await new Promise<any>((resolve, reject) => client.Echo({ text: "js" }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
      client.close();
      expect(res.text).toBe("js");
    });
  });

  describe("mTLS", () => {
    let s: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      s = await start({ ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    });
    afterAll(() => s.server.shutdown(100));

    it("accepts a client certificate signed by the trusted CA", async () => {
      expect(await echo(s.port, { ca: ca.cert, ...ca.issue({ commonName: "client-a" }) })).toBe("over tls");
    });

    it("gives handlers the verified client certificate (grpcPeerCertificate)", async () => {
      const server = createServer({ logger: quiet }).service(EchoService, {
        echo: (_req, ctx) => ({ text: `${ctx.values.get(grpcPeerCertificate)?.subject.CN}/${ctx.values.get(grpcPeerCertificate)?.authorized}` }),
      });
      const { url } = await server.listen(createGrpcServerTransport({ port: 0, tls: { ...ca.issue(), ca: ca.cert, requestCert: true, rejectUnauthorized: true } }));
      try {
        expect(await echo(Number(new URL(url).port), { ca: ca.cert, ...ca.issue({ commonName: "billing" }) })).toBe("billing/true");
      } finally {
        await server.shutdown(100);
      }
    });

    it("rejects a client without a certificate with UNAVAILABLE", async () => {
      const err = await rejection(echo(s.port, { ca: ca.cert }));
      expect(err.code).toBe(Code.UNAVAILABLE);
    });

    it("rejects a client certificate from another CA with UNAVAILABLE", async () => {
      const err = await rejection(echo(s.port, { ca: ca.cert, ...other.issue() }));
      expect(err.code).toBe(Code.UNAVAILABLE);
    });

    it("accepts a @grpc/grpc-js client with a certificate", async () => {
      const leaf = ca.issue({ commonName: "grpc-js" });
      const creds = grpc.credentials.createSsl(Buffer.from(ca.cert), Buffer.from(leaf.key), Buffer.from(leaf.cert));
      const client: any = new GrpcJsEchoClient(`localhost:${s.port}`, creds);
      const res = await new Promise<any>((resolve, reject) => client.Echo({ text: "mtls" }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
      client.close();
      expect(res.text).toBe("mtls");
    });
  });

  it("server.listen(\"grpcs://…\") without certificates is INVALID_ARGUMENT", async () => {
    const server = createServer({ logger: quiet });
    const err = await rejection(server.listen("grpcs://127.0.0.1:0"));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.rawMessage).toMatch(/createGrpcServerTransport/);
  });

  describe("setSecureContext()", () => {
    it("switches new connections to a new certificate without a restart", async () => {
      const s = await start(ca.issue());
      try {
        expect(await echo(s.port, { ca: ca.cert })).toBe("over tls");
        s.transport.setSecureContext(other.issue());
        expect(await echo(s.port, { ca: other.cert })).toBe("over tls");
        expect((await rejection(echo(s.port, { ca: ca.cert }))).code).toBe(Code.UNAVAILABLE);
      } finally {
        await s.server.shutdown(100);
      }
    });

    it("raises FAILED_PRECONDITION on a cleartext server", async () => {
      const s = await start(undefined);
      try {
        expect(() => s.transport.setSecureContext({})).toThrow(/needs a started server with tls/);
      } finally {
        await s.server.shutdown(100);
      }
    });
  });
});
