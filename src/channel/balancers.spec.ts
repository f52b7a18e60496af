import { describe, expect, it } from "vitest";
import { Code } from "../rpc/code.js";
import { echoCall, fakeSubchannel, type FakeSubchannel } from "../../test/support/channel-fakes.js";
import { rejection } from "../../test/support/rejection.js";
import type { Balancer } from "./balancer.js";
import { createBalancer } from "./create-balancer.js";
import { createLeastRequestBalancer } from "./least-request.js";
import { createRingHashBalancer } from "./ring-hash.js";
import { createRoundRobinBalancer } from "./round-robin.js";
import { createWeightedRoundRobinBalancer } from "./weighted-round-robin.js";
import { seededRandom } from "../../test/support/seeded-random.js";

/** Picks `n` times and counts picks per endpoint URL. */
function distribution(balancer: Balancer, ready: FakeSubchannel[], n: number, key?: (i: number) => string): Map<string, number> {
  const picker = balancer.createPicker(ready);
  const counts = new Map<string, number>(ready.map((s) => [s.endpoint.url, 0]));
  for (let i = 0; i < n; i++) {
    const s = picker.pick(echoCall({ metadata: key ? { "x-hash-key": key(i) } : {} }));
    counts.set(s.endpoint.url, (counts.get(s.endpoint.url) ?? 0) + 1);
  }
  return counts;
}

const three = () => [fakeSubchannel("grpc://a:1"), fakeSubchannel("grpc://b:1"), fakeSubchannel("grpc://c:1")];


describe("createRoundRobinBalancer()", () => {
  describe("pick()", () => {
    it("spreads 3,000 calls over 3 endpoints within ±5%", () => {
      const counts = distribution(createRoundRobinBalancer(), three(), 3000);
      for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThanOrEqual(50);
    });

    it("goes through the endpoints in turn", () => {
      const picker = createRoundRobinBalancer().createPicker(three());
      const first = [0, 1, 2].map(() => picker.pick(echoCall()).endpoint.url);
      expect(new Set(first).size).toBe(3);
      expect([0, 1, 2].map(() => picker.pick(echoCall()).endpoint.url)).toEqual(first);
    });

    it("keeps its position across pickers, so rebuilds do not favour one endpoint", () => {
      const balancer = createRoundRobinBalancer();
      const ready = three();
      const counts = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const url = balancer.createPicker(ready).pick(echoCall()).endpoint.url;
        counts.set(url, (counts.get(url) ?? 0) + 1);
      }
      expect([...counts.values()]).toEqual([100, 100, 100]);
    });
  });
});

describe("createWeightedRoundRobinBalancer()", () => {
  describe("pick()", () => {
    it("gives each endpoint calls in proportion to its weight", () => {
      const ready = [fakeSubchannel("grpc://a:1", { weight: 5 }), fakeSubchannel("grpc://b:1", { weight: 3 }), fakeSubchannel("grpc://c:1", { weight: 2 })];
      const counts = distribution(createWeightedRoundRobinBalancer(), ready, 3000);
      expect([...counts.values()]).toEqual([1500, 900, 600]);
    });

    it("interleaves picks smoothly (nginx's order for weights 5, 1, 1)", () => {
      const ready = [fakeSubchannel("a", { weight: 5 }), fakeSubchannel("b", { weight: 1 }), fakeSubchannel("c", { weight: 1 })];
      const picker = createWeightedRoundRobinBalancer().createPicker(ready);
      const order = Array.from({ length: 7 }, () => picker.pick(echoCall()).endpoint.url).join("");
      expect(order).toBe("aabacaa");
    });

    it("splits evenly with equal weights", () => {
      const counts = distribution(createWeightedRoundRobinBalancer(), three(), 3000);
      expect([...counts.values()]).toEqual([1000, 1000, 1000]);
    });
  });
});

describe("createRingHashBalancer()", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `user-${i}`);

  /** Endpoint URL per key. */
  function mapping(ready: FakeSubchannel[]): Map<string, string> {
    const picker = createRingHashBalancer().createPicker(ready);
    return new Map(keys.map((k) => [k, picker.pick(echoCall({ metadata: { "x-hash-key": k } })).endpoint.url]));
  }

  describe("pick()", () => {
    it("sends the same key to the same endpoint, whatever the order of the ready list", () => {
      const ready = three();
      const a = mapping(ready);
      const b = mapping([ready[2], ready[0], ready[1]]);
      expect(b).toEqual(a);
    });

    it("spreads distinct keys over every endpoint", () => {
      const counts = new Map<string, number>();
      for (const url of mapping(three()).values()) counts.set(url, (counts.get(url) ?? 0) + 1);
      expect(counts.size).toBe(3);
      for (const n of counts.values()) expect(n).toBeGreaterThan(700);
    });

    it("moves only the keys of a removed endpoint", () => {
      const ready = three();
      const before = mapping(ready);
      const after = mapping([ready[0], ready[2]]);
      let moved = 0;
      for (const k of keys) {
        if (before.get(k) === "grpc://b:1") moved++;
        else expect(after.get(k)).toBe(before.get(k));
      }
      expect(moved).toBeGreaterThan(0);
      expect([...after.values()]).not.toContain("grpc://b:1");
    });

    it("gives heavier endpoints more of the ring", () => {
      const ready = [fakeSubchannel("grpc://a:1", { weight: 3 }), fakeSubchannel("grpc://b:1", { weight: 1 })];
      const counts = new Map<string, number>();
      for (const url of mapping(ready).values()) counts.set(url, (counts.get(url) ?? 0) + 1);
      expect(counts.get("grpc://a:1")).toBeGreaterThan(2 * (counts.get("grpc://b:1") ?? 0));
    });

    it("reads a configurable header and sends calls without it to a random point", () => {
      const balancer = createRingHashBalancer({ hashHeader: "X-Cart-Id", random: seededRandom(1) });
      const picker = balancer.createPicker(three());
      const first = picker.pick(echoCall({ metadata: { "x-cart-id": "c1" } })).endpoint.url;
      for (let i = 0; i < 50; i++) expect(picker.pick(echoCall({ metadata: { "x-cart-id": "c1" } })).endpoint.url).toBe(first);
      const keyless = new Set(Array.from({ length: 100 }, () => picker.pick(echoCall()).endpoint.url));
      expect(keyless.size).toBe(3);
    });

    it("rejects a bad virtualNodes count with INVALID_ARGUMENT", () => {
      expect(() => createRingHashBalancer({ virtualNodes: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    });
  });
});

describe("createLeastRequestBalancer()", () => {
  describe("pick()", () => {
    it("never picks the endpoint with the most active calls when latencies are equal", () => {
      const ready = three();
      ready[0].activeCalls = 10;
      const counts = distribution(createLeastRequestBalancer({ random: seededRandom(2) }), ready, 3000);
      expect(counts.get("grpc://a:1")).toBe(0);
      expect(counts.get("grpc://b:1")).toBeGreaterThan(1000);
      expect(counts.get("grpc://c:1")).toBeGreaterThan(1000);
    });

    it("prefers the faster endpoint (lower latency EWMA) at equal load", () => {
      const ready = [fakeSubchannel("grpc://slow:1", { latencyEwmaMs: 50 }), fakeSubchannel("grpc://fast:1", { latencyEwmaMs: 5 })];
      const counts = distribution(createLeastRequestBalancer({ random: seededRandom(3) }), ready, 1000);
      expect(counts.get("grpc://fast:1")).toBe(1000);
    });

    it("weighs load against latency: (active + 1) × latency", () => {
      // fast: (9 + 1) × 5 = 50 > slow: (0 + 1) × 20 = 20, so the slow idle endpoint wins.
      const ready = [fakeSubchannel("grpc://slow:1", { latencyEwmaMs: 20 }), fakeSubchannel("grpc://fast:1", { latencyEwmaMs: 5, activeCalls: 9 })];
      const counts = distribution(createLeastRequestBalancer({ random: seededRandom(4) }), ready, 100);
      expect(counts.get("grpc://slow:1")).toBe(100);
    });

    it("spreads evenly among equal endpoints", () => {
      const counts = distribution(createLeastRequestBalancer({ random: seededRandom(5) }), three(), 3000);
      for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThanOrEqual(150);
    });

    it("samples choiceCount distinct endpoints", () => {
      const ready = [...three(), fakeSubchannel("grpc://d:1")];
      ready[0].activeCalls = 1;
      ready[1].activeCalls = 2;
      ready[2].activeCalls = 3;
      // With all four sampled, the idle one always wins.
      const counts = distribution(createLeastRequestBalancer({ choiceCount: 4, random: seededRandom(6) }), ready, 200);
      expect(counts.get("grpc://d:1")).toBe(200);
    });

    it("rejects choiceCount < 2 with INVALID_ARGUMENT", () => {
      expect(() => createLeastRequestBalancer({ choiceCount: 1 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    });
  });
});

describe("createBalancer()", () => {
  it("builds the built-in balancers by name", () => {
    for (const name of ["round_robin", "least_request", "ring_hash", "weighted_round_robin"]) expect(createBalancer(name).name).toBe(name);
  });

  it("rejects an unknown name with INVALID_ARGUMENT listing the known ones", async () => {
    const error = await rejection(Promise.resolve().then(() => createBalancer("random")));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toContain("round_robin");
  });
});
