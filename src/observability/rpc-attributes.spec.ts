import { describe, expect, it } from "vitest";
import { methodInfo } from "../contract/method-info.js";
import { EchoService } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { peerFromTarget, rpcMetricAttributes, rpcSpanAttributes, rpcSpanName } from "./rpc-attributes.js";

const echo = methodInfo(EchoService.method.echo);

describe("rpcSpanName()", () => {
  it("is {service}/{method}, as the RPC conventions name spans", () => {
    expect(rpcSpanName(echo)).toBe("ferry.test.v1.EchoService/Echo");
  });
});

describe("peerFromTarget()", () => {
  it("reads the scheme, host and port of a target URL", () => {
    expect(peerFromTarget("grpc://10.0.0.7:50051")).toEqual({ transport: "grpc", address: "10.0.0.7", port: 50051 });
    expect(peerFromTarget("native://[::1]:7000")).toEqual({ transport: "native", address: "::1", port: 7000 });
    expect(peerFromTarget("inproc://shop")).toEqual({ transport: "inproc", address: "shop", port: undefined });
  });

  it("knows nothing about a transport object or a malformed target, and never throws", () => {
    expect(peerFromTarget(undefined)).toEqual({ transport: undefined, address: undefined, port: undefined });
    expect(peerFromTarget("not a url")).toEqual({ transport: undefined, address: undefined, port: undefined });
  });
});

describe("rpcSpanAttributes()", () => {
  it("says grpc for the grpc transport and ferry for Ferry's own, with the service, method and transport", () => {
    expect(rpcSpanAttributes(echo, "grpc", peerFromTarget("grpc://h:1"))).toEqual({
      "rpc.system": "grpc",
      "rpc.service": "ferry.test.v1.EchoService",
      "rpc.method": "Echo",
      "ferry.transport": "grpc",
      "server.address": "h",
      "server.port": 1,
    });
    expect(rpcSpanAttributes(echo, "native")["rpc.system"]).toBe("ferry");
    expect(rpcSpanAttributes(echo, undefined)).not.toHaveProperty("ferry.transport");
  });
});

describe("rpcMetricAttributes()", () => {
  it("adds the status code and names an unknown transport", () => {
    expect(rpcMetricAttributes(echo, undefined, 14)).toMatchObject({ "rpc.grpc.status_code": 14, "ferry.transport": "unknown", "rpc.system": "ferry" });
  });
});
