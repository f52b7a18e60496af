import type { Attributes } from "@opentelemetry/api";
import { RPC_SYSTEM_VALUE_GRPC, ATTR_RPC_METHOD, ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM, ATTR_RPC_GRPC_STATUS_CODE } from "@opentelemetry/semantic-conventions/incubating";
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from "@opentelemetry/semantic-conventions";
import type { MethodInfo } from "../contract/method-info.js";

/**
 * `rpc.system` for Ferry's own transports (`native`, `inproc`, NATS RPC):
 * not a value the semantic conventions list, so named after the framework,
 * as the conventions ask for unlisted systems.
 */
export const RPC_SYSTEM_FERRY = "ferry";

/**
 * Ferry's attribute naming the transport that carried a call (`grpc`,
 * `native`, `inproc`, `nats`, `connect`, `grpc-web`), on client and server spans, since
 * `rpc.system` only tells gRPC apart from Ferry's own protocols.
 */
export const ATTR_FERRY_TRANSPORT = "ferry.transport";

/** The transport names that speak gRPC on the wire (`rpc.system = "grpc"`). */
const grpcTransports = new Set(["grpc", "grpcs", "grpc+unix", "connect", "grpc-web"]);

/**
 * The span name of a call, per the OpenTelemetry RPC conventions:
 * `{rpc.service}/{rpc.method}`, e.g. `shop.v1.OrderService/PlaceOrder`.
 */
export function rpcSpanName(info: MethodInfo): string {
  return info.path.slice(1);
}

/** Where a client call goes, as far as the client knows it from its target URL. */
export interface RpcPeer {
  /** The transport's scheme (`grpc`, `native`, `inproc`, `nats`, …), or `undefined` for a transport object. */
  readonly transport: string | undefined;
  /** `server.address`: host name or IP of the target, when the target names one. */
  readonly address: string | undefined;
  /** `server.port`, when the target names one. */
  readonly port: number | undefined;
}

/** The {@link RpcPeer} of a client target URL (`grpc://127.0.0.1:50051`, `inproc://shop`). Never throws. */
export function peerFromTarget(target: string | undefined): RpcPeer {
  if (target === undefined) return { transport: undefined, address: undefined, port: undefined };
  try {
    const url = new URL(target);
    const scheme = url.protocol.slice(0, -1);
    const port = url.port === "" ? undefined : Number(url.port);
    const address = url.hostname === "" ? undefined : url.hostname.replace(/^\[|\]$/g, "");
    return { transport: scheme, address, port };
  } catch {
    return { transport: undefined, address: undefined, port: undefined };
  }
}

/**
 * The attributes a call's span starts with (OpenTelemetry semantic
 * conventions for RPC spans, the `rpc.*` generation that
 * instrumentation-grpc uses): `rpc.system`, `rpc.service`, `rpc.method`,
 * plus `server.address`/`server.port` on the client when known and
 * {@link ATTR_FERRY_TRANSPORT}. The request body is never recorded.
 */
export function rpcSpanAttributes(info: MethodInfo, transport: string | undefined, peer?: RpcPeer): Attributes {
  const attributes: Attributes = {
    [ATTR_RPC_SYSTEM]: transport !== undefined && grpcTransports.has(transport) ? RPC_SYSTEM_VALUE_GRPC : RPC_SYSTEM_FERRY,
    [ATTR_RPC_SERVICE]: info.service.typeName,
    [ATTR_RPC_METHOD]: info.method.name,
  };
  if (transport !== undefined) attributes[ATTR_FERRY_TRANSPORT] = transport;
  if (peer?.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = peer.address;
  if (peer?.port !== undefined) attributes[ATTR_SERVER_PORT] = peer.port;
  return attributes;
}

/**
 * The low-cardinality attributes of the call-duration metrics: system,
 * service, method, transport and `rpc.grpc.status_code` (Ferry's codes are
 * gRPC's on every transport).
 */
export function rpcMetricAttributes(info: MethodInfo, transport: string | undefined, code: number): Attributes {
  return {
    [ATTR_RPC_SYSTEM]: transport !== undefined && grpcTransports.has(transport) ? RPC_SYSTEM_VALUE_GRPC : RPC_SYSTEM_FERRY,
    [ATTR_RPC_SERVICE]: info.service.typeName,
    [ATTR_RPC_METHOD]: info.method.name,
    [ATTR_FERRY_TRANSPORT]: transport ?? "unknown",
    [ATTR_RPC_GRPC_STATUS_CODE]: code,
  };
}
