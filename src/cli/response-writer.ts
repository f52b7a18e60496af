import { toJson, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { FerryError } from "../rpc/ferry-error.js";
import { CliCallFailure } from "./cli-error.js";

/** Options of {@link createResponseWriter}. */
export interface ResponseWriterOptions {
  /** Resolves `Any` and extensions in responses. */
  readonly registry: Registry;
  /** Indent the JSON (2 spaces); default: when `out` is a terminal. Otherwise one line per message (JSON lines). */
  readonly pretty?: boolean;
  /** Print fields with default values too (`--emit-defaults`). Default false, as protobuf's JSON mapping. */
  readonly emitDefaults?: boolean;
}

/**
 * A function that prints each response message of type `schema` on `out`
 * in protobuf's JSON mapping: indented on a terminal, one line per message
 * otherwise, so that a stream piped into `jq` or a script reads as JSON lines.
 */
export function createResponseWriter(out: NodeJS.WritableStream & { isTTY?: boolean }, schema: DescMessage, options: ResponseWriterOptions): (message: Message) => void {
  const pretty = options.pretty ?? out.isTTY === true;
  const jsonOptions = { registry: options.registry, alwaysEmitImplicit: options.emitDefaults === true };
  return (message) => {
    const json = toJson(schema, message as never, jsonOptions);
    out.write(`${pretty ? JSON.stringify(json, null, 2) : JSON.stringify(json)}\n`);
  };
}

/**
 * One error detail as a line: `type.Name {json}` when `registry` knows its
 * type, else `type-url base64-of-value`.
 */
export function describeDetail(detail: Any, registry: Registry): string {
  try {
    const message = anyUnpack(detail, registry);
    if (message !== undefined) return `${message.$typeName} ${JSON.stringify(toJson(registry.getMessage(message.$typeName)!, message as never, { registry }))}`;
  } catch {
    // undecodable: fall back to the raw bytes
  }
  return `${detail.typeUrl} ${Buffer.from(detail.value).toString("base64")}`;
}

/**
 * `err` with its details decoded through `registry` (a {@link CliCallFailure}),
 * or `err` unchanged when it is not a FerryError with details.
 */
export function withDecodedDetails(err: unknown, registry: Registry): unknown {
  if (!(err instanceof FerryError) || err.details.length === 0) return err;
  return new CliCallFailure(err, err.details.map((d) => describeDetail(d, registry)));
}
