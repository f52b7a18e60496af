import type { DescMessage, FileRegistry } from "@bufbuild/protobuf";
import { CliUsageError } from "./cli-error.js";
import { compileProtos } from "./proto-source.js";

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
