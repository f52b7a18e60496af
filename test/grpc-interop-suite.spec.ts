/**
 * The gRPC interop test suite (grpc/grpc doc/interop-test-descriptions.md),
 * 18 cases, run both ways against @grpc/grpc-js over cleartext and TLS, plus
 * Ferry against Ferry. Cases a grpc-js server cannot express
 * (GRPC_JS_SERVER_EXCLUDED: it cannot see request compression nor compress
 * one response) run Ferry against Ferry; a grpc-js client cannot read a
 * response's compressed flag, so its server_compressed_* cases check sizes
 * and Ferry's client checks the flags against the Ferry server.
 * The last test runs the two programs (`npm run interop:server`,
 * `npm run interop:client`) as child processes.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "../src/index.js";
import { createGrpcTransport, type GrpcTransport } from "../src/transport/grpc/index.js";
import { INTEROP_CASES, runFerryCase } from "./interop/ferry-cases.js";
import { runInteropClient } from "./interop/interop-client.js";
import { INTEROP_SERVER_NAME, interopCerts, type InteropCerts } from "./interop/interop-certs.js";
import { startInteropServer } from "./interop/interop-server.js";
import { GRPC_JS_SERVER_EXCLUDED, runGrpcJsCase, startGrpcJsInteropServer } from "./support/grpc-js-interop.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const certs: InteropCerts = interopCerts();

for (const useTls of [false, true]) {
  const mode = useTls ? "TLS" : "cleartext";
  const ferryTransport = (port: number): GrpcTransport =>
    createGrpcTransport({ baseUrl: `${useTls ? "https" : "http"}://127.0.0.1:${port}`, tls: useTls ? { ca: certs.ca, servername: INTEROP_SERVER_NAME } : undefined });

  describe(`grpc interop suite (${mode})`, () => {
    let ferry: { server: Server; port: number };
    let grpcJs: { port: number; stop(): Promise<void> };
    let toFerry: GrpcTransport;
    let toGrpcJs: GrpcTransport;

    beforeAll(async () => {
      ferry = await startInteropServer({ port: 0, useTls, logger: quiet });
      grpcJs = await startGrpcJsInteropServer(useTls ? certs : undefined);
      toFerry = ferryTransport(ferry.port);
      toGrpcJs = ferryTransport(grpcJs.port);
    });
    afterAll(async () => {
      await Promise.all([toFerry.close(), toGrpcJs.close()]);
      await Promise.all([ferry.server.shutdown(100), grpcJs.stop()]);
    });

    describe("@grpc/grpc-js client → Ferry server", () => {
      it.each(INTEROP_CASES)("%s", async (name) => {
        await runGrpcJsCase(name, { port: ferry.port, ca: useTls ? certs.ca : undefined, serverName: useTls ? INTEROP_SERVER_NAME : undefined });
      });
    });

    describe("Ferry client → @grpc/grpc-js server", () => {
      it.each(INTEROP_CASES.filter((c) => !GRPC_JS_SERVER_EXCLUDED.includes(c)))("%s", async (name) => {
        await runFerryCase(name, toGrpcJs);
      });
    });

    describe("Ferry client → Ferry server", () => {
      it.each(INTEROP_CASES)("%s", async (name) => {
        await runFerryCase(name, toFerry);
      });
    });
  });
}

describe("interop programs", () => {
  it("runInteropClient() reports a failing case with a one-line reason", async () => {
    const grpcJs = await startGrpcJsInteropServer();
    try {
      const [result] = await runInteropClient([`--server_port=${grpcJs.port}`, "--test_case=client_compressed_unary"]);
      expect(result.error).toMatch(/^client_compressed_unary probe .*expected status INVALID_ARGUMENT, but the call succeeded$/);
    } finally {
      await grpcJs.stop();
    }
  });

  it("runInteropClient() rejects an unknown --test_case", async () => {
    await expect(runInteropClient(["--server_port=1", "--test_case=nope"])).rejects.toThrow(/unknown --test_case "nope"/);
  });

  it("interop:server and interop:client pass every case over TLS as separate processes", async () => {
    const tsx = ["--import", "tsx"];
    const server = spawn(process.execPath, [...tsx, "test/interop/interop-server.ts", "--port=0", "--use_tls=true"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const lines = createInterface({ input: server.stdout! });
      const [line] = (await once(lines, "line")) as [string];
      const port = /:(\d+) \(TLS\)$/.exec(line)?.[1];
      expect(port).toBeDefined();
      const client = spawn(process.execPath, [...tsx, "test/interop/interop-client.ts", "--server_host=127.0.0.1", `--server_port=${port}`, "--test_case=all",
        "--use_tls=true", "--use_test_ca=true", `--server_host_override=${INTEROP_SERVER_NAME}`], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      client.stdout!.on("data", (d) => (out += d));
      client.stderr!.on("data", (d) => (out += d));
      const [code] = (await once(client, "exit")) as [number];
      expect(out.match(/^PASS /gm)?.length, out).toBe(18);
      expect(code, out).toBe(0);
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
  });
});
