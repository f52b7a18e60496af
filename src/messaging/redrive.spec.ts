import { afterAll, describe, expect, it } from "vitest";
import { EchoRequestSchema } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { createBroker, defineTopic, type Broker } from "./index.js";

describe("Broker", () => {
  describe("redrive()", () => {
    let broker: Broker;
    afterAll(() => broker?.close());

    it("moves one group's dead letters, up to `limit`, and resumes where the last re-drive stopped", async () => {
      broker = await createBroker("memory:redrive-spec");
      const t = defineTopic("redrive-spec.orders", EchoRequestSchema);
      const fast = { initialMs: 1, maxMs: 1, jitter: 0 };
      let failing = true;
      const handledByA: string[] = [];
      const subs = [
        await broker.subscribe(t, { group: "a", maxDeliveries: 1, backoff: fast }, (m) => {
          if (failing) throw new Error("a is down");
          handledByA.push(m.text);
        }),
        await broker.subscribe(t, { group: "b", maxDeliveries: 1, backoff: fast }, (m) => {
          if (m.text === "m0") throw new Error("b rejects m0");
        }),
      ];
      for (const text of ["m0", "m1", "m2"]) await broker.publish(t, { text });
      await new Promise((r) => setTimeout(r, 100));
      failing = false;

      const first = await broker.redrive(t, { group: "a", limit: 2, idleMs: 200 });
      expect(first.moved).toBe(2);
      const second = await broker.redrive(t, { group: "a", idleMs: 200 });
      expect(second).toEqual({ moved: 1, skipped: 1 }); // b's dead letter of m0 is passed over
      await new Promise((r) => setTimeout(r, 100));
      expect(handledByA.sort()).toEqual(["m0", "m1", "m2"]);
      await Promise.all(subs.map((s) => s.stop()));
    });
  });
});
