import { readFile } from "node:fs/promises";
import type { DescMessage, FileRegistry, JsonValue, Registry } from "@bufbuild/protobuf";
import { decodeBinary, decodeJson, encodeBinary, encodeJson } from "../contract/codec.js";
import type { RawDelivery } from "../messaging/adapter.js";
import { FerryHeader } from "../messaging/headers.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { CliUsageError } from "./cli-error.js";
import { compileProtos } from "./proto-source.js";

/** Largest payload `-d` reads from a file or stdin, in bytes (64 MiB, the largest any Ferry broker takes by default). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * How a payload is shown in `ferry topics tail` and `ferry dlq list --json`:
 * - with a known message type: `message` (protobuf's JSON mapping) and `type`;
 * - otherwise (or when decoding fails, with `decodeError`): `payloadBase64`,
 *   plus `payloadJson` when the bytes are UTF-8 text holding valid JSON
 *   (what `ferry topics publish` sends without `--type`).
 * `payloadBytes` is the payload's size in bytes in every case.
 */
export interface PayloadView {
  readonly payloadBytes: number;
  readonly type?: string;
  readonly message?: JsonValue;
  readonly decodeError?: string;
  readonly payloadBase64?: string;
  readonly payloadJson?: JsonValue;
}

/** Where `--proto`, `--import-path` and `--type` point: the message types a topic's payloads have. */
export interface MessageTypeOptions {
  /** `.proto` files to compile (`--proto`, repeatable). */
  readonly proto?: readonly string[];
  /** Directories the files and their imports are found under (`--import-path`, repeatable); default: each file's folder. */
  readonly importPath?: readonly string[];
}

/**
 * Compiles `options.proto` with `buf` (the `ferry call` loader,
 * `compileProtos`) into one registry of descriptors, or resolves `undefined`
 * when no file was given.
 *
 * @throws CliUsageError (exit 2) for a missing file or a compile error (buf's
 *   message); FerryError FAILED_PRECONDITION (exit 9) without `@bufbuild/buf`.
 */
export async function loadMessageTypes(options: MessageTypeOptions): Promise<FileRegistry | undefined> {
  const files = options.proto ?? [];
  if (files.length === 0) return undefined;
  return (await compileProtos(files, options.importPath ?? [])).registry;
}

/**
 * The message type `--type` names, or `undefined` without `--type`.
 *
 * @throws CliUsageError (exit 2) for `--type` without `--proto`, or a name
 *   the files do not define (the message lists up to ten that they do).
 */
export function messageTypeOf(registry: FileRegistry | undefined, typeName: string | undefined): DescMessage | undefined {
  if (typeName === undefined) return undefined;
  if (registry === undefined) throw new CliUsageError(`--type ${typeName} needs --proto FILE to define it`);
  const desc = registry.getMessage(typeName.replace(/^\./, ""));
  if (desc !== undefined) return desc;
  const known: string[] = [];
  for (const type of registry) if (type.kind === "message") known.push(type.typeName);
  const hint = known.length === 0 ? "they define no message" : `they define ${known.slice(0, 10).join(", ")}${known.length > 10 ? ", …" : ""}`;
  throw new CliUsageError(`--type ${typeName}: no such message in the --proto files (${hint})`);
}

/**
 * The message type to decode a delivered payload with: `fixed` when given
 * (`--type`), else the type its `ferry-type` header names if the registry
 * has it, else `undefined` (the payload is shown as bytes).
 */
export function decodingTypeFor(registry: FileRegistry | undefined, fixed: DescMessage | undefined, typeHeader: string | undefined): DescMessage | undefined {
  if (fixed !== undefined) return fixed;
  if (registry === undefined || typeHeader === undefined) return undefined;
  return registry.getMessage(typeHeader);
}

/**
 * Reads what `-d` names: inline text, `@path` (a file's bytes) or `-`
 * (standard input until its end).
 *
 * @throws CliUsageError (exit 2) for an empty `-d` or an unreadable file;
 *   FerryError RESOURCE_EXHAUSTED (exit 8) above {@link MAX_PAYLOAD_BYTES}.
 */
export async function readPayloadData(data: string, stdin: NodeJS.ReadableStream): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (data === "-") bytes = await readAll(stdin);
  else if (data.startsWith("@")) {
    const path = data.slice(1);
    if (path === "") throw new CliUsageError("-d @FILE needs a file name after @");
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new CliUsageError(`-d ${data}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else bytes = new TextEncoder().encode(data);
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) {
    throw new FerryError(Code.RESOURCE_EXHAUSTED, `the payload has ${bytes.byteLength} bytes, more than ${MAX_PAYLOAD_BYTES}`);
  }
  return bytes;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    total += buf.byteLength;
    if (total > MAX_PAYLOAD_BYTES) throw new FerryError(Code.RESOURCE_EXHAUSTED, `standard input has more than ${MAX_PAYLOAD_BYTES} bytes`);
    chunks.push(buf);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * The bytes to publish: with a message type, `data` is that message in
 * protobuf's JSON mapping and is encoded to protobuf binary; without one,
 * `data` is published verbatim.
 *
 * @throws FerryError INVALID_ARGUMENT (exit 3) when `data` is not valid JSON
 *   for the type (the parser's reason included).
 */
export function encodePayload(data: Uint8Array, type: DescMessage | undefined, registry?: Registry): Uint8Array {
  if (type === undefined) return data;
  let json: JsonValue;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data)) as JsonValue;
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `-d is not valid JSON for ${type.typeName}: ${(err as Error).message}`);
  }
  return encodeBinary(type, decodeJson(type, json, { registry }));
}

/** Shows a payload as {@link PayloadView} describes, decoding it as `type` when given. Never throws. */
export function describePayload(payload: Uint8Array, type: DescMessage | undefined, registry?: Registry): PayloadView {
  const payloadBytes = payload.byteLength;
  if (type !== undefined) {
    try {
      return { payloadBytes, type: type.typeName, message: encodeJson(type, decodeBinary(type, payload), { registry }) };
    } catch (err) {
      return { payloadBytes, type: type.typeName, decodeError: (err as Error).message, ...rawView(payload) };
    }
  }
  return { payloadBytes, ...rawView(payload) };
}

function rawView(payload: Uint8Array): { payloadBase64: string; payloadJson?: JsonValue } {
  const payloadBase64 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64");
  const json = jsonOf(payload);
  return json === undefined ? { payloadBase64 } : { payloadBase64, payloadJson: json };
}

/** The JSON value `bytes` hold when they are UTF-8 text of valid JSON, else `undefined`. */
function jsonOf(bytes: Uint8Array): JsonValue | undefined {
  if (bytes.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as JsonValue;
  } catch {
    return undefined;
  }
}

/**
 * One delivered message as a JSON object (a line of `ferry topics tail`):
 * `topic`, `sequence` (the broker's position: JetStream stream sequence,
 * Redis entry id; `""` on RabbitMQ), `messageId`, `deliveryAttempt` (1 on
 * the first delivery to the group), `publishTime` (ISO 8601, the broker's
 * store time where it keeps one, else the publisher's clock), `orderingKey`
 * (when set), every header, then the payload as {@link PayloadView}.
 */
export function deliveryView(delivery: RawDelivery, payload: PayloadView): Record<string, unknown> {
  const headers = delivery.headers;
  const publishMs = delivery.publishTimeMs ?? Number(headers[FerryHeader.publishTime]);
  return {
    topic: delivery.topic,
    sequence: delivery.sequence,
    messageId: headers[FerryHeader.messageId] ?? "",
    deliveryAttempt: delivery.deliveryAttempt,
    publishTime: Number.isFinite(publishMs) ? new Date(publishMs).toISOString() : null,
    ...(headers[FerryHeader.orderingKey] === undefined ? {} : { orderingKey: headers[FerryHeader.orderingKey] }),
    headers,
    ...payload,
  };
}
