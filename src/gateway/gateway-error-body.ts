import { anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { codeToString } from "../rpc/code.js";
import type { FerryError } from "../rpc/ferry-error.js";
import { boundMessage } from "./http-input.js";

/**
 * The JSON form of the gateway's error answers:
 *
 * - `"connect"` (default): the Connect protocol's error object,
 *   `{"code": "not_found", "message": "…", "details": [{"type":
 *   "google.rpc.BadRequest", "value": "<base64>", "debug": {…}}]}`: the code
 *   in words; each detail's bytes, plus its JSON as `debug` when the
 *   gateway's registry knows the type;
 * - `"google.rpc.Status"`: the JSON mapping of google.rpc.Status, as
 *   grpc-gateway and Google APIs answer, `{"code": 5, "message": "…",
 *   "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", …}]}`;
 *   a detail whose type the registry does not know is sent as
 *   `{"@type": …, "value": "<base64>"}`.
 */
export type GatewayErrorFormat = "connect" | "google.rpc.Status";

/** The error body of `error` in `format`, its message cut to `maxChars`. */
export function gatewayErrorBody(error: FerryError, format: GatewayErrorFormat, maxChars: number, registry: Registry): Record<string, unknown> {
  const message = boundMessage(error.rawMessage, maxChars);
  if (format === "google.rpc.Status") {
    return { code: error.code, message, details: error.details.map((d) => anyJson(d, registry)) };
  }
  const body: Record<string, unknown> = { code: codeToString(error.code), message };
  if (error.details.length > 0) {
    body.details = error.details.map((d) => {
      const out: Record<string, unknown> = { type: d.typeUrl.slice(d.typeUrl.lastIndexOf("/") + 1), value: Buffer.from(d.value).toString("base64").replace(/=+$/, "") };
      const debug = unpacked(d, registry);
      if (debug !== undefined) out.debug = debug;
      return out;
    });
  }
  return body;
}

/** A detail as the JSON of `google.protobuf.Any` (`@type` plus the message's fields, or `value` for the WKTs' own forms). */
function anyJson(detail: Any, registry: Registry): JsonValue {
  const json = unpacked(detail, registry);
  if (json === undefined) return { "@type": detail.typeUrl, value: Buffer.from(detail.value).toString("base64") };
  if (typeof json === "object" && json !== null && !Array.isArray(json)) return { "@type": detail.typeUrl, ...json };
  return { "@type": detail.typeUrl, value: json };
}

function unpacked(detail: Any, registry: Registry): JsonValue | undefined {
  try {
    const message = anyUnpack(detail, registry);
    if (message === undefined) return undefined;
    const schema = registry.getMessage(detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1));
    return schema === undefined ? undefined : toJson(schema, message, { registry });
  } catch {
    return undefined;
  }
}
