import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { clusterMembers, intQueryParam } from "./cluster-members.js";

const members = (url: string, param = "servers", port = 4222): string[] => clusterMembers(new URL(url), param, port, "NATS URL");

describe("clusterMembers", () => {
  it("lists the URL's host first, then the query's members, with default ports and without schemes or duplicates", () => {
    expect(members("nats://a:4223")).toEqual(["a:4223"]);
    expect(members("nats://a?servers=b:4300,nats://c,[::1]:4400,a:4222")).toEqual(["a:4222", "b:4300", "c:4222", "[::1]:4400"]);
    expect(members("etcd://a?endpoints=http://b:2380", "endpoints", 2379)).toEqual(["a:2379", "b:2380"]);
  });

  it("rejects a missing host, a malformed entry, a bad port and too many members with INVALID_ARGUMENT", () => {
    for (const url of ["nats://?servers=b", "nats://a?servers=b:x", "nats://a?servers=b:70000", "nats://a?servers=b/c", `nats://a?servers=${Array.from({ length: 40 }, (_, i) => `h${i}`).join(",")}`]) {
      expect(() => members(url), url).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    }
    expect(() => members("nats://a?servers=b:x")).toThrow('NATS URL: servers entry "b:x" is not host[:port]');
  });
});

describe("intQueryParam", () => {
  it("reads an integer in range, undefined when absent, INVALID_ARGUMENT otherwise", () => {
    expect(intQueryParam(new URL("nats://a?replicas=3"), "replicas", 1, 5, "NATS URL")).toBe(3);
    expect(intQueryParam(new URL("nats://a"), "replicas", 1, 5, "NATS URL")).toBeUndefined();
    expect(() => intQueryParam(new URL("nats://a?replicas=7"), "replicas", 1, 5, "NATS URL")).toThrow("NATS URL: replicas=7 must be an integer from 1 to 5");
  });
});
