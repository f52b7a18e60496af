import { loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { repoPath } from "./compiled.js";

/**
 * EchoService for the @grpc/grpc-js contender, loaded from the same .proto
 * as Ferry's generated code (test/proto/ferry/test/v1/echo.proto) with
 * @grpc/proto-loader; bytes fields are Buffers.
 */
export function loadEchoService(): ServiceClientConstructor {
  const protoPath = repoPath("test/proto/ferry/test/v1/echo.proto");
  const definition = loadSync(protoPath, { longs: String, enums: String, defaults: false, oneofs: true });
  const pkg = loadPackageDefinition(definition) as unknown as { ferry: { test: { v1: { EchoService: ServiceClientConstructor } } } };
  return pkg.ferry.test.v1.EchoService;
}

/** The request and response shape proto-loader produces for EchoRequest/EchoResponse. */
export interface GrpcJsEcho {
  payload?: Buffer | Uint8Array;
  count?: number;
  index?: number;
}
