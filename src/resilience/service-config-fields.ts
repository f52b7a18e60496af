import { Code, codeFromString } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";

/** Reads fields of one JSON object of a service config, reporting errors with their path. */
export class FieldReader {
  readonly #seen = new Set<string>();

  constructor(
    readonly path: string,
    readonly obj: Record<string, unknown>,
  ) {}

  /** Reads an object-valued entry of a config: throws unless `value` is a plain object. */
  static of(path: string, value: unknown): FieldReader {
    if (typeof value !== "object" || value === null || Array.isArray(value)) invalid(path, "must be an object", value);
    return new FieldReader(path, value as Record<string, unknown>);
  }

  /** The raw value of `key` (marking it known). */
  raw(key: string): unknown {
    this.#seen.add(key);
    return this.obj[key];
  }

  /** A number, or `undefined` when absent. Checks `min`/`max` (inclusive unless `minExclusive`) and integer-ness. */
  number(key: string, rule: { min?: number; max?: number; integer?: boolean; minExclusive?: boolean } = {}): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const p = `${this.path}.${key}`;
    if (typeof v !== "number" || !Number.isFinite(v)) invalid(p, "must be a finite number", v);
    if (rule.integer === true && !Number.isInteger(v)) invalid(p, "must be an integer", v);
    if (rule.min !== undefined && (rule.minExclusive === true ? !(v > rule.min) : !(v >= rule.min))) {
      invalid(p, `must be ${rule.minExclusive === true ? ">" : ">="} ${rule.min}`, v);
    }
    if (rule.max !== undefined && v > rule.max) invalid(p, `must be <= ${rule.max}`, v);
    return v;
  }

  /** A boolean, or `undefined` when absent. */
  boolean(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v !== undefined && typeof v !== "boolean") invalid(`${this.path}.${key}`, "must be true or false", v);
    return v as boolean | undefined;
  }

  /** A string, or `undefined` when absent. */
  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v !== undefined && typeof v !== "string") invalid(`${this.path}.${key}`, "must be a string", v);
    return v as string | undefined;
  }

  /**
   * A duration in ms, given either as gRPC's JSON duration under `grpcKey`
   * (`"1.5s"`) or as Ferry's milliseconds under `msKey`; not both.
   */
  durationMs(grpcKey: string, msKey: string, rule: { minExclusive?: boolean } = {}): number | undefined {
    const text = this.raw(grpcKey);
    const ms = this.number(msKey, { min: 0, minExclusive: rule.minExclusive });
    if (text === undefined) return ms;
    const p = `${this.path}.${grpcKey}`;
    if (ms !== undefined) invalid(p, `and ${msKey} are both set; give one`, text);
    if (typeof text !== "string" || !/^\d+(\.\d{1,9})?s$/.test(text)) invalid(p, 'must be a duration such as "1.5s" (seconds, non-negative)', text);
    const value = Number(text.slice(0, -1)) * 1000;
    if (rule.minExclusive === true && value === 0) invalid(p, "must be > 0s", text);
    return value;
  }

  /** A list of status codes given by name (`"UNAVAILABLE"`, any case) or number. */
  codes(key: string, rule: { nonEmpty?: boolean } = {}): Code[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const p = `${this.path}.${key}`;
    if (!Array.isArray(v)) invalid(p, "must be a list of status codes", v);
    if (rule.nonEmpty === true && v.length === 0) invalid(p, "must name at least one status code", v);
    return v.map((item, i) => parseCode(`${p}[${i}]`, item));
  }

  /** Throws for a key that no reader asked for (catches typos), except those in `ignored`. */
  rejectUnknown(ignored: readonly string[] = []): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.#seen.has(key) && !ignored.includes(key)) invalid(`${this.path}.${key}`, "is not a known field", this.obj[key]);
    }
  }
}

function parseCode(path: string, item: unknown): Code {
  if (typeof item === "number" && Number.isInteger(item) && item >= 1 && item <= 16) return item as Code;
  if (typeof item === "string") {
    const code = codeFromString(item);
    if (code !== undefined && code !== Code.OK) return code;
  }
  return invalid(path, "must be a status code name such as \"UNAVAILABLE\" or a number 1-16", item);
}

/** Throws INVALID_ARGUMENT saying which field was wrong and what it held. */
export function invalid(path: string, message: string, value: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  throw new FerryError(Code.INVALID_ARGUMENT, `invalid service config: ${path} ${message}, got ${shown}`);
}
