import { create, createFileRegistry, fromBinary, type FileRegistry, type MessageInitShape } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { ServerReflection as ReflectionV1, type ServerReflectionRequestSchema } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createClient } from "../rpc/client.js";
import type { ClientTransport } from "../rpc/client-transport.js";
import type { CallOptions } from "../rpc/call-options.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { DescriptorSource } from "./descriptor-source.js";
import { wellKnownFile } from "./well-known-files.js";

type RequestInit = MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"];

/** The parts of a reflection response (v1 and v1alpha have the same shape) this client reads. */
interface ReflectionAnswer {
  messageResponse:
    | { case: "listServicesResponse"; value: { service: { name: string }[] } }
    | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
    | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } }
    | { case: string | undefined; value?: unknown };
}

type Ask = (request: RequestInit, options: CallOptions) => AsyncIterable<ReflectionAnswer>;

/**
 * A client of gRPC server reflection (`grpc.reflection.v1.ServerReflection`,
 * falling back to `v1alpha` once when the server answers UNIMPLEMENTED),
 * as a {@link DescriptorSource}. Each request is one short bidi stream.
 * Files the server leaves out (imports it does not serve) are asked for by
 * name; well-known types (`google/protobuf/*.proto`) come from protobuf-es.
 */
export class ReflectionClient implements DescriptorSource {
  readonly #v1: Ask;
  readonly #v1alpha: Ask;
  #useAlpha = false;
  readonly #files = new Map<string, FileDescriptorProto>();

  /**
   * @param transport - the server's transport; the caller closes it.
   * @param callOptions - sent with every reflection request (`metadata`, `timeoutMs`).
   */
  constructor(transport: ClientTransport, private readonly callOptions: CallOptions = {}) {
    const v1 = createClient(ReflectionV1, transport);
    const v1alpha = createClient(ReflectionV1alpha, transport);
    this.#v1 = (request, options) => v1.serverReflectionInfo(once({ messageRequest: request }), options) as AsyncIterable<ReflectionAnswer>;
    // v1alpha's request has v1's shape field for field; only the type names differ.
    this.#v1alpha = (request, options) => v1alpha.serverReflectionInfo(once({ messageRequest: request }) as never, options) as AsyncIterable<ReflectionAnswer>;
  }

  /** Which reflection version the server answered: `"v1"` or `"v1alpha"`. */
  get version(): "v1" | "v1alpha" {
    return this.#useAlpha ? "v1alpha" : "v1";
  }

  /** {@inheritDoc DescriptorSource.listServices} */
  async listServices(): Promise<string[]> {
    const answer = await this.#ask({ case: "listServices", value: "" });
    if (answer.case !== "listServicesResponse") throw unexpected(answer.case);
    return answer.value.service.map((s) => s.name).sort();
  }

  /** {@inheritDoc DescriptorSource.registryFor} */
  async registryFor(symbol: string): Promise<FileRegistry> {
    const root = await this.#fetch({ case: "fileContainingSymbol", value: symbol });
    await this.#fetchMissingImports(root);
    return createFileRegistry(create(FileDescriptorSetSchema, { file: this.#inImportOrder(root) }));
  }

  /**
   * `root` and everything it imports, each file after its imports (what a
   * FileDescriptorSet registry needs; protobuf-es's resolver variant misorders
   * diamond imports).
   */
  #inImportOrder(root: FileDescriptorProto): FileDescriptorProto[] {
    const ordered: FileDescriptorProto[] = [];
    const done = new Set<string>();
    const visit = (file: FileDescriptorProto) => {
      if (done.has(file.name)) return;
      done.add(file.name);
      for (const dep of file.dependency) {
        const found = this.#files.get(dep) ?? wellKnownFile(dep);
        if (found === undefined) throw new FerryError(Code.NOT_FOUND, `the server's reflection has no file "${dep}", imported by "${file.name}"`);
        visit(found);
      }
      ordered.push(file);
    };
    visit(root);
    return ordered;
  }

  /** Asks for files, remembers every file the answer carries, and returns the first (the one asked for). */
  async #fetch(request: RequestInit): Promise<FileDescriptorProto> {
    const answer = await this.#ask(request);
    if (answer.case !== "fileDescriptorResponse") throw unexpected(answer.case);
    const files = answer.value.fileDescriptorProto.map((bytes) => withoutEmptyJsonNames(fromBinary(FileDescriptorProtoSchema, bytes)));
    if (files.length === 0) throw new FerryError(Code.INTERNAL, "reflection answered with no file descriptor");
    for (const f of files) this.#files.set(f.name, f);
    return files[0];
  }

  async #fetchMissingImports(root: FileDescriptorProto): Promise<void> {
    const pending = [root];
    const seen = new Set<string>([root.name]);
    while (pending.length > 0) {
      for (const dep of pending.pop()!.dependency) {
        if (seen.has(dep)) continue;
        seen.add(dep);
        if (!this.#files.has(dep) && wellKnownFile(dep) === undefined) await this.#fetch({ case: "fileByFilename", value: dep });
        const file = this.#files.get(dep);
        if (file !== undefined) pending.push(file);
      }
    }
  }

  /** One request on its own stream; an errorResponse becomes a FerryError with its code. */
  async #ask(request: RequestInit): Promise<Extract<ReflectionAnswer["messageResponse"], { case: "listServicesResponse" | "fileDescriptorResponse" }>> {
    let answer: ReflectionAnswer["messageResponse"] | undefined;
    try {
      answer = await first((this.#useAlpha ? this.#v1alpha : this.#v1)(request, this.callOptions));
    } catch (err) {
      if (this.#useAlpha || !(err instanceof FerryError) || err.code !== Code.UNIMPLEMENTED) throw err;
      this.#useAlpha = true;
      answer = await first(this.#v1alpha(request, this.callOptions)).catch((e: unknown) => {
        if (!(e instanceof FerryError) || e.code !== Code.UNIMPLEMENTED) throw e;
        throw new FerryError(Code.UNIMPLEMENTED, "the server does not serve gRPC reflection (v1 or v1alpha): give its .proto files with --proto FILE [--import-path DIR]");
      });
    }
    if (answer?.case === "errorResponse") {
      const e = answer.value as { errorCode: number; errorMessage: string };
      throw new FerryError(e.errorCode as Code, e.errorMessage || "reflection request failed");
    }
    if (answer?.case === "listServicesResponse" || answer?.case === "fileDescriptorResponse") return answer as never;
    throw unexpected(answer?.case);
  }
}

/**
 * Fills in `json_name` where a server left it empty, as protoc would (the
 * lowerCamelCase field name). Some servers (@grpc/reflection, from protobufjs)
 * send none, and protobuf-es would then print every field as `""`.
 */
function withoutEmptyJsonNames(file: FileDescriptorProto): FileDescriptorProto {
  const visit = (message: DescriptorProto) => {
    for (const field of message.field) if (field.jsonName === "") field.jsonName = protoCamelCase(field.name);
    message.nestedType.forEach(visit);
  };
  file.messageType.forEach(visit);
  return file;
}

async function* once<T>(value: T): AsyncIterable<T> {
  yield value;
}

async function first(responses: AsyncIterable<ReflectionAnswer>): Promise<ReflectionAnswer["messageResponse"] | undefined> {
  for await (const r of responses) return r.messageResponse;
  return undefined;
}

function unexpected(what: string | undefined): FerryError {
  return new FerryError(Code.INTERNAL, `unexpected reflection answer: ${what ?? "none"}`);
}
