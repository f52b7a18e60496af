import { create, fromBinary, isMessage, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { compileEncoder, type MessageEncoder } from "./message-encoder.js";
import { scratch } from "./scalar-codecs.js";

/**
 * The binary codec of one message type, for Ferry's hot paths: a compiled
 * encoder (see {@link compileEncoder}) that measures a message and writes it
 * straight into a buffer the transport owns, with protobuf-es as the
 * fallback for every type or value the compiled encoder does not handle.
 * The bytes are identical to protobuf-es's `toBinary` (property-tested
 * against it); decoding is protobuf-es's `fromBinary`.
 *
 * Values may be messages of the type or init objects (`MessageInitShape`),
 * encoded exactly as `toBinary(schema, create(schema, value))` would encode
 * them, without creating the message.
 */
export class MessageCodec {
  readonly #encoder: MessageEncoder | undefined;
  #measured: unknown = undefined;
  #measuredBytes = 0;
  #fallbackBytes: Uint8Array | undefined;

  constructor(readonly schema: DescMessage) {
    this.#encoder = compileEncoder(schema);
  }

  /** True when this type is encoded by the compiled encoder (else every value goes through protobuf-es). */
  get compiled(): boolean {
    return this.#encoder !== undefined;
  }

  /**
   * Measures `value` (a message of the type or an init object) and returns
   * its encoded size in bytes; {@link writeMeasured} then writes it. A value
   * the compiled encoder rejects (a wrong type, a value protobuf-es would
   * coerce, a missing proto2 required field) is encoded by protobuf-es
   * instead, which raises its own error when the value cannot be encoded;
   * a non-object raises a FerryError INVALID_ARGUMENT naming the type (as `toMessage`).
   */
  measure(value: unknown): number {
    const enc = this.#encoder;
    if (enc !== undefined && typeof value === "object" && value !== null) {
      try {
        scratch.n = 0;
        scratch.owner = this;
        const n = enc.size(value);
        this.#measured = value;
        this.#measuredBytes = n;
        this.#fallbackBytes = undefined;
        return n;
      } catch {
        // protobuf-es decides: it encodes what it can and raises its own error otherwise.
      }
    }
    const bytes = this.#fallback(value);
    this.#measured = value;
    this.#fallbackBytes = bytes;
    this.#measuredBytes = bytes.length;
    return bytes.length;
  }

  /**
   * Writes the value measured by the last {@link measure} into `buf` at
   * `pos` (which must have room for its size); returns the position after
   * it. Nothing else may be encoded between the two calls.
   */
  writeMeasured(buf: Buffer, pos: number): number {
    const value = this.#measured;
    // Another codec measured in between (re-entrant use): measure again.
    if (this.#fallbackBytes === undefined && scratch.owner !== this) this.measure(value);
    this.#measured = undefined;
    const fallback = this.#fallbackBytes;
    if (fallback !== undefined) {
      this.#fallbackBytes = undefined;
      buf.set(fallback, pos);
      return pos + fallback.length;
    }
    scratch.r = 0;
    const end = this.#encoder!.write(value, buf, pos);
    if (end - pos !== this.#measuredBytes || scratch.r !== scratch.n) {
      throw new Error(`encoding ${this.schema.typeName} wrote ${end - pos} bytes, measured ${this.#measuredBytes} (the value changed while it was encoded)`);
    }
    return end;
  }

  /** Encodes `value` into a new `Uint8Array` that owns its `ArrayBuffer` (offset 0, exactly its length), as protobuf-es's `toBinary` returns. */
  encode(value: unknown): Uint8Array {
    const n = this.measure(value);
    const fallback = this.#fallbackBytes;
    if (fallback !== undefined) {
      this.#measured = this.#fallbackBytes = undefined;
      return fallback;
    }
    const buf = Buffer.allocUnsafeSlow(n);
    this.writeMeasured(buf, 0);
    return new Uint8Array(buf.buffer, 0, n);
  }

  /** Parses `bytes` with protobuf-es (unknown fields kept). Throws protobuf-es's error on malformed input. */
  decode(bytes: Uint8Array): Message {
    return fromBinary(this.schema, bytes);
  }

  #fallback(value: unknown): Uint8Array {
    if (typeof value !== "object" || value === null) {
      throw new FerryError(Code.INVALID_ARGUMENT, `expected a ${this.schema.typeName} message, got ${value === null ? "null" : typeof value}`);
    }
    const message = isMessage(value, this.schema) ? value : create(this.schema, value as never);
    return toBinary(this.schema, message);
  }
}

const codecs = new WeakMap<DescMessage, MessageCodec>();

/** The (cached) codec of `schema`, compiled on first use. */
export function messageCodec(schema: DescMessage): MessageCodec {
  let codec = codecs.get(schema);
  if (codec === undefined) {
    codec = new MessageCodec(schema);
    codecs.set(schema, codec);
  }
  return codec;
}
