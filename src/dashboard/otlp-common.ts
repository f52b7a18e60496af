/**
 * The pieces of the OTLP/JSON encoding shared by traces and metrics:
 * `AnyValue`, `KeyValue` lists, resources and 64-bit nanosecond timestamps.
 *
 * Source: OTLP specification, "JSON Protobuf Encoding" (lowerCamelCase
 * field names, trace and span ids as hex strings, 64-bit integers as
 * decimal strings or numbers, enums as integers) and
 * `opentelemetry/proto/common/v1/common.proto`.
 */
import type { DashboardAttributeValue } from "./dashboard-span.js";

/** A request body the receiver cannot read: answered with HTTP 400 and this message. */
export class OtlpDecodeError extends Error {
  override readonly name = "OtlpDecodeError";
}

/** A plain JSON object, or `undefined` for anything else. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The array at `field` of `object` (absent or `null` → empty). Throws
 * {@link OtlpDecodeError} naming `path` when it is something else.
 */
export function arrayField(object: Record<string, unknown>, field: string, path: string): readonly unknown[] {
  const value = object[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${path}.${field} must be an array`);
  return value;
}

/**
 * A JSON `AnyValue` as a dashboard attribute value: strings, booleans,
 * numbers (`intValue` may be a decimal string), `bytesValue` as its base64
 * text; arrays and key-value lists as their compact JSON text. `undefined`
 * for an empty or unknown value.
 */
export function anyValue(value: unknown): DashboardAttributeValue | undefined {
  const v = asObject(value);
  if (v === undefined) return undefined;
  if (typeof v.stringValue === "string") return v.stringValue;
  if (typeof v.boolValue === "boolean") return v.boolValue;
  if (v.intValue !== undefined) return toNumber(v.intValue);
  if (v.doubleValue !== undefined) return toNumber(v.doubleValue);
  if (typeof v.bytesValue === "string") return v.bytesValue;
  if (v.arrayValue !== undefined) return JSON.stringify(arrayField(asObject(v.arrayValue) ?? {}, "values", "arrayValue").map(anyValue));
  if (v.kvlistValue !== undefined) return JSON.stringify(Object.fromEntries(keyValues(asObject(v.kvlistValue)?.values)));
  return undefined;
}

/** The entries of a JSON `KeyValue` list; malformed entries are skipped. Lazy, so callers can stop at a cap. */
export function* keyValues(list: unknown): Generator<[string, DashboardAttributeValue | undefined]> {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    const kv = asObject(item);
    if (kv === undefined || typeof kv.key !== "string") continue;
    yield [kv.key, anyValue(kv.value)];
  }
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/**
 * A `fixed64` nanosecond Unix timestamp (decimal string, number, or the
 * `{ low, high }` long-bits object some encoders write) as fractional
 * milliseconds, or `undefined` when absent or not a number.
 */
export function nanosToMs(value: unknown): number | undefined {
  const bits = asObject(value);
  if (bits !== undefined && typeof bits.low === "number" && typeof bits.high === "number") {
    return ((bits.high >>> 0) * 4294967296 + (bits.low >>> 0)) / 1e6;
  }
  const n = toNumber(value);
  return n === undefined || n < 0 ? undefined : n / 1e6;
}

/** What the dashboard takes from a `Resource`: the service and the instance. */
export interface ResourceIdentity {
  readonly service: string;
  readonly instance: string | undefined;
}

/**
 * The service (`service.name`, else `unknown_service`) and instance
 * (`service.instance.id`, else `host.name:process.pid`, else whichever of
 * the two is present) of a JSON `Resource`.
 */
export function resourceIdentity(resource: unknown): ResourceIdentity {
  const attributes = new Map(keyValues(asObject(resource)?.attributes));
  const service = attributes.get("service.name");
  const instanceId = attributes.get("service.instance.id");
  const host = attributes.get("host.name");
  const pid = attributes.get("process.pid");
  let instance: string | undefined;
  if (instanceId !== undefined) instance = String(instanceId);
  else if (host !== undefined || pid !== undefined) instance = [host, pid].filter((p) => p !== undefined).join(":");
  return { service: typeof service === "string" && service !== "" ? service : "unknown_service", instance };
}
