/**
 * `ferry` over TLS: a Ferry gRPC server whose certificate comes from a
 * throw-away CA, called with `--cacert` (and `--cert`/`--key` for mTLS),
 * failing without them, and `--insecure`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "../../src/index.js";
import { addReflectionService, createGrpcServerTransport, createThrowawayCa, type GrpcServerOptions } from "../../src/transport/grpc/index.js";
import { EchoService, echoImpl } from "../support/echo-service.js";
import { jsonLines, runFerry } from "./run-ferry.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ECHO = "ferry.test.v1.EchoService/Echo";

describe("ferry over TLS", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-cli-tls-"));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  let servers: Server[] = [];
  let tlsPort: number;
  let mtlsPort: number;
  let caFile: string;
  let otherCaFile: string;
  let clientCert: string;
  let clientKey: string;

  async function start(tls: GrpcServerOptions["tls"]): Promise<number> {
    const server = createServer({ logger: quiet }).service(EchoService, echoImpl);
    addReflectionService(server);
    servers.push(server);
    const { url } = await server.listen(createGrpcServerTransport({ port: 0, tls }));
    return Number(new URL(url).port);
  }

  beforeAll(async () => {
    const ca = createThrowawayCa();
    const other = createThrowawayCa({ commonName: "Other CA" });
    const client = ca.issue({ commonName: "ferry-cli" });
    caFile = file("ca.pem", ca.cert);
    otherCaFile = file("other.pem", other.cert);
    clientCert = file("client.pem", client.cert);
    clientKey = file("client.key", client.key);
    tlsPort = await start(ca.issue());
    mtlsPort = await start({ ...ca.issue(), ca: ca.cert, requestCert: true });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.shutdown(100)));
    servers = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it("--cacert verifies the server; host:port then means TLS", async () => {
    const run = await runFerry(["call", `localhost:${tlsPort}`, ECHO, "-d", '{"text":"tls"}', "--cacert", caFile]);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([{ text: "tls" }]);
    const list = await runFerry(["list", `grpcs://localhost:${tlsPort}`, "--cacert", caFile]);
    expect(list.stdout.split("\n")).toContain("ferry.test.v1.EchoService");
  });

  it("a CA that did not sign the server's certificate fails with UNAVAILABLE (14)", async () => {
    const run = await runFerry(["call", `grpcs://localhost:${tlsPort}`, ECHO, "--cacert", otherCaFile]);
    expect(run.code).toBe(14);
    expect(run.stderr).toMatch(/^ERROR: UNAVAILABLE: .*certificate/);
  });

  it("without --cacert the system CAs do not trust it (14)", async () => {
    const run = await runFerry(["call", `grpcs://localhost:${tlsPort}`, ECHO, "--proto", "test/proto/ferry/test/v1/echo.proto"]);
    expect(run.code).toBe(14);
  });

  it("--insecure skips verification", async () => {
    const run = await runFerry(["call", `localhost:${tlsPort}`, ECHO, "-d", '{"text":"insecure"}', "--insecure"]);
    expect(jsonLines(run.stdout)).toEqual([{ text: "insecure" }]);
  });

  it("mTLS: --cert and --key present a client certificate; without them the server refuses", async () => {
    const ok = await runFerry(["call", `localhost:${mtlsPort}`, ECHO, "-d", '{"text":"mtls"}', "--cacert", caFile, "--cert", clientCert, "--key", clientKey]);
    expect(ok.code).toBe(0);
    expect(jsonLines(ok.stdout)).toEqual([{ text: "mtls" }]);
    const refused = await runFerry(["call", `localhost:${mtlsPort}`, ECHO, "--cacert", caFile, "--proto", "test/proto/ferry/test/v1/echo.proto"]);
    expect(refused.code).toBe(14);
  });

  it("contradictory or incomplete TLS flags are usage errors", async () => {
    const plain = await runFerry(["call", `localhost:${tlsPort}`, ECHO, "--cacert", caFile, "--plaintext"]);
    expect([plain.code, plain.stderr.trim()]).toEqual([2, "ferry: --plaintext contradicts --cacert, --cert, --key, --insecure and --servername"]);
    const half = await runFerry(["call", `localhost:${mtlsPort}`, ECHO, "--cert", clientCert]);
    expect([half.code, half.stderr.trim()]).toEqual([2, "ferry: --cert and --key go together (mTLS needs both)"]);
    const missing = await runFerry(["call", `localhost:${tlsPort}`, ECHO, "--cacert", join(dir, "nope.pem")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^ferry: --cacert: cannot read/);
  });
});
