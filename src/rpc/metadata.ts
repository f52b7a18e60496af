/**
 * A metadata value: text for ordinary keys, bytes for keys ending in `-bin`
 * (gRPC PROTOCOL-HTTP2, "Custom-Metadata").
 */
export type MetadataValue = string | Uint8Array;

/** What {@link Metadata} accepts where a caller may give plain data. */
export type MetadataInit =
  | Metadata
  | Record<string, MetadataValue | readonly MetadataValue[]>
  | Iterable<readonly [string, MetadataValue]>;

const keyPattern = /^[0-9a-z_.-]+$/;
const emptyMap: ReadonlyMap<string, MetadataValue[]> = new Map();

/** True when `key` names a binary (`-bin`) metadata entry. */
export function isBinaryKey(key: string): boolean {
  return key.endsWith("-bin");
}

/**
 * Request headers, response headers or trailers of a call: an ordered,
 * multi-valued map with lower-cased keys.
 *
 * Keys follow gRPC's rules: lower-case letters, digits, `-`, `_` and `.`.
 * Keys starting with `grpc-` and HTTP/2's own headers (`content-type`, `te`,
 * `:path`, …) are reserved for the protocol: transports never send them as
 * custom metadata and never surface received ones as metadata.
 * Keys ending in `-bin` carry bytes (`Uint8Array`), sent base64-encoded on
 * HTTP/2; all other keys carry printable ASCII text (0x20–0x7E).
 *
 * Every mutator throws a `TypeError` naming the key when a key or value breaks
 * these rules, so a bad header never reaches the wire.
 */
export class Metadata implements Iterable<[string, MetadataValue]> {
  // Allocated on first write: most calls carry no metadata.
  #map: Map<string, MetadataValue[]> | undefined;

  get #entries(): Map<string, MetadataValue[]> {
    return (this.#map ??= new Map());
  }

  /** Copies `init` (another Metadata, a record, or key/value pairs). */
  constructor(init?: MetadataInit) {
    if (init !== undefined) this.merge(init);
  }

  /** The first value of `key`, or `undefined`. */
  get(key: string): MetadataValue | undefined {
    return this.#map?.get(key.toLowerCase())?.[0];
  }

  /** The first value of a text key, or `undefined` (also for a `-bin` key). */
  getText(key: string): string | undefined {
    const value = this.get(key);
    return typeof value === "string" ? value : undefined;
  }

  /** Every value of `key`, in order; empty when absent. */
  getAll(key: string): readonly MetadataValue[] {
    return this.#map?.get(key.toLowerCase()) ?? [];
  }

  /** True when `key` has at least one value. */
  has(key: string): boolean {
    return this.#map?.has(key.toLowerCase()) ?? false;
  }

  /** Replaces every value of `key` with `value`. */
  set(key: string, value: MetadataValue): this {
    const k = checkEntry(key, value);
    this.#entries.set(k, [value]);
    return this;
  }

  /** Adds `value` after the existing values of `key`. */
  append(key: string, value: MetadataValue): this {
    const k = checkEntry(key, value);
    const list = this.#entries.get(k);
    if (list) list.push(value);
    else this.#entries.set(k, [value]);
    return this;
  }

  /** Removes every value of `key`. */
  delete(key: string): boolean {
    return this.#map?.delete(key.toLowerCase()) ?? false;
  }

  /** Appends every entry of `init`. */
  merge(init: MetadataInit): this {
    if (init instanceof Metadata) {
      if (init.#map !== undefined) for (const [k, values] of init.#map) for (const v of values) this.#appendTrusted(k, v);
      return this;
    }
    if (Symbol.iterator in init) {
      for (const [k, v] of init as Iterable<readonly [string, MetadataValue]>) this.append(k, v);
      return this;
    }
    for (const [k, v] of Object.entries(init)) {
      if (Array.isArray(v)) for (const item of v as MetadataValue[]) this.append(k, item);
      else this.append(k, v as MetadataValue);
    }
    return this;
  }

  /** Number of distinct keys. */
  get size(): number {
    return this.#map?.size ?? 0;
  }

  /** Every key with its values. */
  keys(): IterableIterator<string> {
    return (this.#map ?? emptyMap).keys();
  }

  /** Every `[key, value]` pair, one per value, in insertion order. */
  *[Symbol.iterator](): IterableIterator<[string, MetadataValue]> {
    if (this.#map === undefined) return;
    for (const [k, values] of this.#map) for (const v of values) yield [k, v];
  }

  /** A plain record, with text values as strings and `-bin` values base64-encoded, for logs and JSON. */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, values] of this.#map ?? emptyMap) {
      out[k] = values.map((v) => (typeof v === "string" ? v : Buffer.from(v).toString("base64")));
    }
    return out;
  }

  /**
   * Appends an entry that a transport decoded from the wire. Keys are trusted
   * to be lower case already; values are not checked again.
   * @internal
   */
  appendTrusted(key: string, value: MetadataValue): void {
    this.#appendTrusted(key, value);
  }

  #appendTrusted(key: string, value: MetadataValue): void {
    const list = this.#entries.get(key);
    if (list) list.push(value);
    else this.#entries.set(key, [value]);
  }
}

function checkEntry(key: string, value: MetadataValue): string {
  const k = key.toLowerCase();
  if (!keyPattern.test(k)) {
    throw new TypeError(`metadata key "${key}" is invalid: use lower-case letters, digits, "-", "_" and "."`);
  }
  if (isBinaryKey(k)) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`metadata key "${k}" ends in -bin and needs a Uint8Array value`);
    return k;
  }
  if (typeof value !== "string") throw new TypeError(`metadata key "${k}" needs a string value (only -bin keys carry bytes)`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new TypeError(`metadata value of "${k}" has a character outside printable ASCII at index ${i}; use a -bin key for binary or non-ASCII data`);
    }
  }
  return k;
}
