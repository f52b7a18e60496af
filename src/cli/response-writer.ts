import { toJson, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";

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
