/**
 * RabbitMQ restarted (`rabbitmqctl stop_app` / `start_app`) while a publisher
 * and a consumer group are running: no message whose publish was confirmed
 * may be lost; duplicates are allowed (at-least-once) and counted.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Code } from "../../rpc/code.js";
import { FerryError } from "../../rpc/ferry-error.js";
import { createBroker, defineTopic, type Broker } from "../index.js";
import { EchoRequestSchema } from "../../../test/gen/ferry/test/v1/echo_pb.js";
import { checkService } from "../../../test/support/services.js";
import { cleanupAmqp, restartRabbitmq } from "../../../test/messaging/amqp-service.js";

const check = await checkService("RabbitMQ", "127.0.0.1", 5672);
const exchange = `ferry-restart-${randomBytes(3).toString("hex")}`;
const root = `r${randomBytes(3).toString("hex")}`;

describe.skipIf(check.skip)("AmqpAdapter", () => {
  const brokers: Broker[] = [];
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await cleanupAmqp(exchange, root, true);
  });

  describe("broker restart", () => {
    it("loses no confirmed message while RabbitMQ restarts during publishing and consuming", async () => {
      const url = `amqp://guest:guest@127.0.0.1:5672?exchange=${exchange}`;
      const [publisher, consumer] = [await createBroker(url), await createBroker(url)];
      brokers.push(publisher, consumer);
      const topic = defineTopic(`${root}.restart`, EchoRequestSchema);
      const received = new Map<string, number>();
      await consumer.subscribe(topic, { group: "restart", prefetch: 20, concurrency: 4 }, (m) => {
        received.set(m.text, (received.get(m.text) ?? 0) + 1);
      });

      const confirmed: string[] = [];
      let rejectedUnavailable = 0;
      const total = 400;
      let restart: Promise<void> | undefined;
      const deadline = Date.now() + 60_000;
      for (let i = 0; i < total && Date.now() < deadline; i++) {
        if (i === 100) restart = restartRabbitmq();
        const text = `m${i}`;
        // Retry until confirmed (bounded): a publish during the outage rejects with UNAVAILABLE.
        while (Date.now() < deadline) {
          try {
            await publisher.publish(topic, { text }, { messageId: text });
            confirmed.push(text);
            break;
          } catch (err) {
            expect(err).toBeInstanceOf(FerryError);
            expect((err as FerryError).code).toBe(Code.UNAVAILABLE);
            rejectedUnavailable++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await restart;
      const until = Date.now() + 30_000;
      while (confirmed.some((t) => !received.has(t)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));

      const lost = confirmed.filter((t) => !received.has(t)).length;
      const duplicates = [...received.values()].reduce((n, c) => n + c - 1, 0);
      console.log(
        `amqp broker restart: ${confirmed.length} confirmed, ${lost} lost, ${duplicates} duplicate deliveries, ` +
          `${rejectedUnavailable} publishes rejected UNAVAILABLE during the outage (and retried)`,
      );
      expect(confirmed.length).toBe(total);
      expect(rejectedUnavailable).toBeGreaterThan(0); // the restart really happened mid-run
      expect(lost).toBe(0);
    }, 120_000);
  });
});
