import { Metadata } from "../rpc/metadata.js";
import { CliUsageError } from "./cli-error.js";

/**
 * Turns `-H 'key: value'` flags into request metadata. Keys are lower-cased;
 * a key ending in `-bin` takes a base64 value (decoded to bytes). A repeated
 * key sends several values.
 *
 * @param headers - each flag's text, in order.
 * @throws CliUsageError (exit status 2) for a flag without `:`, an invalid key or a non-printable value.
 */
export function parseHeaderFlags(headers: readonly string[]): Metadata {
  const metadata = new Metadata();
  for (const header of headers) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new CliUsageError(`-H "${header}": expected 'key: value'`);
    const key = header.slice(0, colon).trim().toLowerCase();
    const text = header.slice(colon + 1).trim();
    try {
      metadata.append(key, key.endsWith("-bin") ? decodeBase64(text, header) : text);
    } catch (err) {
      if (err instanceof CliUsageError) throw err;
      throw new CliUsageError(`-H "${header}": ${(err as Error).message}`);
    }
  }
  return metadata;
}

function decodeBase64(text: string, header: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new CliUsageError(`-H "${header}": a -bin key takes a base64 value`);
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Collects a repeatable option's values (commander's `argParser` for `-H` and `--proto`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
