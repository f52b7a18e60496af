/**
 * The Ferry gRPC interop server (grpc/grpc doc/interop-test-descriptions.md,
 * "Server"): `npm run interop:server -- --port=N [--use_tls=true] [--host=H]`.
 * Serves grpc.testing.TestService (UnimplementedService is deliberately not
 * served) until SIGINT or SIGTERM. With --use_tls it uses the certificate of
 * interop-certs.ts (valid for foo.test.google.fr, localhost and 127.0.0.1).
 */
import { pathToFileURL } from "node:url";
import { createServer, type Logger, type Server } from "../../src/index.js";
import { createGrpcServerTransport } from "../../src/transport/grpc/index.js";
import { TestService } from "../gen/grpc/testing/test_pb.js";
import { flagBool, parseFlags } from "./flags.js";
import { interopCerts } from "./interop-certs.js";
import { testServiceImpl } from "./test-service.js";

/** Options of {@link startInteropServer}. */
export interface InteropServerOptions {
  /** TCP port; 0 picks one. */
  port: number;
  /** Serve TLS with the interop certificate. */
  useTls: boolean;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  logger?: Logger;
}

/** Starts a Ferry server with the interop TestService; resolves with it and its port. */
export async function startInteropServer(options: InteropServerOptions): Promise<{ server: Server; port: number }> {
  const server = createServer({ logger: options.logger }).service(TestService, testServiceImpl);
  const tls = options.useTls ? (({ cert, key }) => ({ cert, key }))(interopCerts()) : undefined;
  const { url } = await server.listen(createGrpcServerTransport({ host: options.host ?? "127.0.0.1", port: options.port, tls }));
  return { server, port: Number(new URL(url).port) };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const port = Number(flags.get("port") ?? "NaN");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("interop server: --port=N is required (0-65535)");
    process.exit(2);
  }
  const { server, port: bound } = await startInteropServer({ port, useTls: flagBool(flags, "use_tls"), host: flags.get("host") });
  console.log(`interop server listening on ${flags.get("host") ?? "127.0.0.1"}:${bound}${flagBool(flags, "use_tls") ? " (TLS)" : ""}`);
  const stop = () => void server.shutdown(1000).then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((err: unknown) => {
    console.error(`interop server failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
