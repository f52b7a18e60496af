/**
 * Restarting the broker while a publisher and a consumer run (the
 * conformance case "broker-restart"): every confirmed message must be
 * handled (0 lost); duplicates are counted and printed (at-least-once allows
 * them). Runs for each adapter of adapters.ts with an `isolatedBroker`: the
 * broker restarted is a process this test started (private-brokers.ts: its
 * own port and data directory, signalled by pid), never the machine's
 * service, so this file runs in the main suite beside the others.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createBroker, type Broker } from "../../src/messaging/index.js";
import { FerryError } from "../../src/rpc/ferry-error.js";
import { conformanceAdapters } from "./adapters.js";
import { runRoot, Schema, sleep, waitFor } from "./conformance-helpers.js";
import { defineTopic } from "../../src/messaging/topic.js";
import { missingBinary, type PrivateBroker } from "./private-brokers.js";

const only = process.env.FERRY_CONFORMANCE?.split(",").filter((s) => s !== "");
const total = 300;

for (const adapter of conformanceAdapters.filter((a) => only === undefined || only.includes(a.name))) {
  let reason = adapter.skips["broker-restart"] ?? (adapter.isolatedBroker === undefined ? "no broker process of its own to restart" : undefined);
  const missing = reason === undefined && adapter.brokerBinary !== undefined ? missingBinary(adapter.brokerBinary) : undefined;
  if (missing !== undefined && process.env.FERRY_REQUIRE_SERVICES === "1") throw new Error(`${missing} and FERRY_REQUIRE_SERVICES=1`);
  reason ??= missing;

  describe(`messaging broker restart (${adapter.name})`, () => {
    const clients: Broker[] = [];
    let isolated: PrivateBroker | undefined;
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await isolated?.stop();
    });

    if (reason !== undefined) {
      it.skip(`broker-restart — skipped: ${reason}`, () => {});
      return;
    }

    it("loses no confirmed message while the broker restarts during publishing and consuming", async () => {
      // A short publish timeout (NATS adapter option; others ignore it) makes publishes fail during the outage, so retries
      // with the same message id happen and broker-side de-duplication is exercised.
      const broker = (isolated = await adapter.isolatedBroker!());
      const url = broker.url;
      const restartBroker = (): Promise<void> => broker.restart();
      const root = runRoot();
      const publisher = await createBroker(url, { adapterOptions: { ...adapter.adapterOptions, publishTimeoutMs: 1000 } });
      const consumer = await createBroker(url, { adapterOptions: adapter.adapterOptions });
      clients.push(publisher, consumer);
      const t = defineTopic(`${root}.restart.events`, Schema);
      const received = new Map<string, number>();
      const sub = await consumer.subscribe(t, { group: "restart", ackTimeoutMs: 2000, prefetch: 20 }, (m) => {
        received.set(m.text, (received.get(m.text) ?? 0) + 1);
      });

      const confirmed: string[] = [];
      let retries = 0;
      let restart: Promise<void> | undefined;
      for (let i = 0; i < total; i++) {
        const text = `m-${i}`;
        const until = Date.now() + 30_000;
        while (true) {
          try {
            await publisher.publish(t, { text }, { messageId: text });
            confirmed.push(text);
            break;
          } catch (err) {
            if (!(err instanceof FerryError) || Date.now() > until) throw err;
            retries++;
            await sleep(100);
          }
        }
        if (i === Math.floor(total / 3)) restart = restartBroker();
        await sleep(5);
      }
      await restart;
      await waitFor(() => confirmed.every((c) => received.has(c)), "every confirmed message to be handled", 60_000);
      await sleep(500);
      await sub.stop();

      const lost = confirmed.filter((c) => !received.has(c)).length;
      const duplicates = [...received.values()].reduce((n, k) => n + k - 1, 0);
      console.log(
        `[broker-restart ${adapter.name} (own server)] published ${total}, confirmed ${confirmed.length}, lost ${lost}, duplicates ${duplicates}, publish retries ${retries}`,
      );
      expect(confirmed.length).toBe(total);
      expect(lost).toBe(0);
    }, 120_000);
  });
}
