import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ServerReflection as ServerReflectionV1, type ServerReflectionRequest } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Code } from "../../rpc/code.js";
import type { Server } from "../../rpc/server.js";

/** The files of the server's services and everything they import, indexed by file name and by symbol. */
interface DescriptorIndex {
  readonly files: Map<string, DescFile>;
  /** Fully qualified symbol (message, enum, service, method, extension) → its file. */
  readonly symbols: Map<string, DescFile>;
  /** Extendee type name → extension field numbers, and "extendee#number" → file. */
  readonly extensions: Map<string, number[]>;
  readonly extensionFiles: Map<string, DescFile>;
}

function buildIndex(services: readonly DescService[]): DescriptorIndex {
  const index: DescriptorIndex = { files: new Map(), symbols: new Map(), extensions: new Map(), extensionFiles: new Map() };
  const visit = (file: DescFile) => {
    if (index.files.has(file.proto.name)) return;
    index.files.set(file.proto.name, file);
    for (const t of nestedTypes(file)) {
      index.symbols.set(t.typeName, file);
      if (t.kind === "service") for (const m of t.methods) index.symbols.set(`${t.typeName}.${m.name}`, file);
      if (t.kind === "extension") {
        const list = index.extensions.get(t.extendee.typeName) ?? [];
        list.push(t.number);
        index.extensions.set(t.extendee.typeName, list);
        index.extensionFiles.set(`${t.extendee.typeName}#${t.number}`, file);
      }
    }
    for (const dep of file.dependencies) visit(dep);
  };
  for (const s of services) visit(s.file);
  return index;
}

/** `file` and, after it, every file it imports (transitively), serialized as FileDescriptorProtos. */
function fileWithDependencies(file: DescFile): Uint8Array[] {
  const out: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return out.map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
}

type ResponseBody = Record<string, unknown>;

const notFound = (what: string): ResponseBody => ({ case: "errorResponse", value: { errorCode: Code.NOT_FOUND, errorMessage: what } });

/** Answers one reflection request from the server's current services. */
function answer(server: Server, req: ServerReflectionRequest): ResponseBody {
  const index = buildIndex(server.router.services());
  const files = (f: DescFile | undefined, what: string) => (f ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: fileWithDependencies(f) } } : notFound(what));
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: server.router.services().map((s) => ({ name: s.typeName })) } };
    case "fileByFilename":
      return files(index.files.get(r.value), `file "${r.value}" not found`);
    case "fileContainingSymbol":
      return files(index.symbols.get(r.value.replace(/^\./, "")), `symbol "${r.value}" not found`);
    case "fileContainingExtension":
      return files(index.extensionFiles.get(`${r.value.containingType}#${r.value.extensionNumber}`), `extension ${r.value.extensionNumber} of "${r.value.containingType}" not found`);
    case "allExtensionNumbersOfType": {
      if (!index.symbols.has(r.value)) return notFound(`type "${r.value}" not found`);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value, extensionNumber: index.extensions.get(r.value) ?? [] } };
    }
    default:
      return { case: "errorResponse", value: { errorCode: Code.INVALID_ARGUMENT, errorMessage: "empty reflection request" } };
  }
}

/** The request as plain data, so it can be echoed in either API version's `original_request`. */
function plainRequest(req: ServerReflectionRequest): Record<string, unknown> {
  const r = req.messageRequest;
  const value = r.case === "fileContainingExtension" ? { containingType: r.value.containingType, extensionNumber: r.value.extensionNumber } : r.value;
  return { host: req.host, messageRequest: r.case === undefined ? { case: undefined } : { case: r.case, value } };
}

async function* reflectionInfo(server: Server, requests: AsyncIterable<ServerReflectionRequest>): AsyncGenerator<any> {
  for await (const req of requests) {
    yield { validHost: req.host, originalRequest: plainRequest(req), messageResponse: answer(server, req) };
  }
}

/**
 * Adds gRPC server reflection (gRPC doc/server-reflection.md), both
 * `grpc.reflection.v1.ServerReflection` and the older
 * `grpc.reflection.v1alpha.ServerReflection` that many tools still call, so
 * that grpcurl, grpc_cli, Postman and the like can list the server's
 * services and describe their methods and messages.
 *
 * Answers list_services, file_by_filename, file_containing_symbol,
 * file_containing_extension and all_extension_numbers_of_type from the
 * protobuf-es descriptors of the services registered on `server` (at the
 * time of each request). File answers carry the file and everything it
 * imports, as serialized google.protobuf.FileDescriptorProto. Unknown names
 * get an `error_response` with NOT_FOUND; the stream goes on.
 */
export function addReflectionService(server: Server): void {
  const impl = { serverReflectionInfo: (requests: AsyncIterable<ServerReflectionRequest>) => reflectionInfo(server, requests) };
  server.service(ServerReflectionV1, impl);
  // v1alpha is the same protocol with other type names; its requests decode to the same shape.
  server.service(ServerReflectionV1alpha, impl as never);
}
