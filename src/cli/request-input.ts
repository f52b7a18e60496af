import { readFile } from "node:fs/promises";
import { fromJson, type DescMessage, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { CliUsageError } from "./cli-error.js";
import { JsonValueSplitter, parseJsonValues } from "./json-values.js";

/**
 * Where request messages come from, from `-d`: `undefined` (no flag), JSON
 * text, `@file` or `-` (stdin).
 */
export type DataFlag = string | undefined;

/**
 * The request JSON values `-d` names, as they arrive. Without `-d`, a method
 * that takes one request gets `{}` and a client- or bidi-streaming method
 * reads stdin (so bidi calls are interactive: each line is sent as soon as
 * it is complete). `-d -` reads stdin; `-d @file` reads a file.
 * Several values may follow one another (JSON lines, or objects separated
 * by whitespace).
 *
 * @throws CliUsageError (exit status 2) for an unreadable file or invalid JSON.
 */
export async function* requestValues(data: DataFlag, stdin: NodeJS.ReadableStream, requestStream: boolean): AsyncIterable<unknown> {
  if (data === undefined && !requestStream) {
    yield {};
    return;
  }
  if (data === undefined || data === "-") {
    yield* readStdin(stdin);
    return;
  }
  const text = data.startsWith("@") ? await readDataFile(data.slice(1)) : data;
  yield* parseOrFail(() => parseJsonValues(text), "-d");
}

async function readDataFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new CliUsageError(`-d @${path}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function parseOrFail(parse: () => unknown[], where: string): unknown[] {
  try {
    return parse();
  } catch (err) {
    throw new CliUsageError(`${where}: invalid JSON: ${(err as Error).message}`);
  }
}

async function* readStdin(stdin: NodeJS.ReadableStream): AsyncIterable<unknown> {
  const splitter = new JsonValueSplitter();
  stdin.setEncoding("utf8");
  for await (const chunk of stdin) yield* parseOrFail(() => splitter.push(String(chunk)), "stdin");
  yield* parseOrFail(() => splitter.end(), "stdin");
}

/**
 * Turns JSON values into messages of `schema` (protobuf's JSON mapping;
 * `registry` resolves `Any` and extensions).
 *
 * @throws CliUsageError (exit status 2) naming the request's position when a value does not fit the message.
 */
export async function* toRequestMessages(values: AsyncIterable<unknown>, schema: DescMessage, registry: Registry): AsyncIterable<Message> {
  let n = 0;
  for await (const value of values) {
    n++;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new CliUsageError(`request ${n}: expected a JSON object for ${schema.typeName}, got ${JSON.stringify(value)}`);
    }
    try {
      yield fromJson(schema, value as JsonValue, { registry });
    } catch (err) {
      throw new CliUsageError(`request ${n}: does not fit ${schema.typeName}: ${(err as Error).message}`);
    }
  }
}
