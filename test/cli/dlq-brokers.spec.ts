/**
 * `ferry dlq list|redrive` on the real brokers: a consumer group (a library
 * subscription in this process) nacks until its messages are dead-lettered;
 * `ferry dlq list` (a child process) shows them with the failure, and
 * `ferry dlq redrive` makes them deliverable to that group again. A broker
 * that is not running is skipped with a one-line reason (a failure with
 * FERRY_REQUIRE_SERVICES=1); everything is created under a random topic root
 * and removed afterwards.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker, Subscription } from "../../src/messaging/index.js";
import { fastBackoff, runRoot } from "../messaging/conformance-helpers.js";
import { jsonLines, runFerry } from "./run-ferry.js";
import { ECHO_PROTO, echoTopic, eventually, killFerryChildren, libraryBroker, realBrokers } from "./topics-cli-helpers.js";

const TEST_TIMEOUT_MS = 180_000;

interface LetterLine {
  sequence: string;
  messageId: string;
  group: string;
  topic: string;
  attempts: number;
  code: string;
  reason: string;
  message?: unknown;
}

for (const { adapter, skip } of await realBrokers()) {
  describe.skipIf(skip)(`ferry dlq on ${adapter.name}`, () => {
    const root = runRoot();
    const url = adapter.url;
    let lib: Broker;
    const subscriptions: Subscription[] = [];

    beforeAll(async () => {
      lib = await libraryBroker(adapter);
    });

    afterAll(async () => {
      killFerryChildren();
      await Promise.allSettled(subscriptions.map((s) => s.stop({ timeoutMs: 1000 })));
      await lib?.close();
      await adapter.cleanup(root);
    });

    /** `ferry dlq list --json` for `group`: the letters it prints. */
    async function listLetters(topic: string, group: string): Promise<LetterLine[]> {
      const run = await runFerry(["dlq", "list", url, topic, "--group", group, "--json", "--proto", ECHO_PROTO]);
      expect(run.code, run.stderr).toBe(0);
      return jsonLines(run.stdout) as LetterLine[];
    }

    it("a message a consumer group dead-lettered shows in dlq list, and dlq redrive makes it deliverable to that group again", async () => {
      const topic = `${root}.orders.1`;
      const group = `billing-${randomBytes(3).toString("hex")}`;
      let failing = true;
      const handled: string[] = [];
      subscriptions.push(
        await lib.subscribe(echoTopic(topic), { group, maxDeliveries: 2, backoff: fastBackoff }, (_msg, delivery) => {
          if (failing) throw new Error("card declined");
          handled.push(delivery.messageId);
        }),
      );
      const ids = [`order-1-${root}`, `order-2-${root}`];
      for (const [i, id] of ids.entries()) {
        const pub = await runFerry(["topics", "publish", url, topic, "--proto", ECHO_PROTO, "--type", "ferry.test.v1.EchoRequest", "-d", `{"text":"order ${i + 1}"}`, "--id", id]);
        expect(pub.code, pub.stderr).toBe(0);
      }

      let letters: LetterLine[] = [];
      await eventually(async () => (letters = await listLetters(topic, group)).length === 2, "two dead letters in ferry dlq list", 60_000);
      expect(letters.map((l) => l.messageId).sort()).toEqual([...ids].sort());
      expect(letters[0]).toMatchObject({ group, topic, attempts: 2, code: "UNKNOWN", reason: "card declined" });
      expect(letters.map((l) => l.message)).toContainEqual({ text: "order 1" });

      const table = await runFerry(["dlq", "list", url, topic, "--group", group]);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^SEQUENCE\s+MESSAGE ID\s+ATTEMPTS\s+CODE\s+REASON\s+DEAD-LETTERED AT$/m);
      expect(table.stdout).toContain(ids[0]);
      expect(table.stdout).toContain("card declined");
      expect(table.stderr).toContain(`2 dead letter(s) of group ${group}`);

      // Another group's view: none of these letters are its own.
      expect(await listLetters(topic, "someone-else")).toEqual([]);

      failing = false;
      const one = await runFerry(["dlq", "redrive", url, topic, "--group", group, "--id", ids[0], "--json"]);
      expect(one.code, one.stderr).toBe(0);
      expect(jsonLines(one.stdout)[0]).toEqual({ moved: 1, messageIds: [ids[0]], left: 1 });
      await eventually(() => handled.includes(ids[0]), "the re-driven message handled by its group");
      expect((await listLetters(topic, group)).map((l) => l.messageId)).toEqual([ids[1]]);

      const missing = await runFerry(["dlq", "redrive", url, topic, "--group", group, "--id", "no-such-id"]);
      expect(missing.code).toBe(5);
      expect(missing.stderr).toMatch(/^ERROR: NOT_FOUND: no dead letter with message id or sequence "no-such-id"/);

      const rest = await runFerry(["dlq", "redrive", url, topic, "--group", group, "--all"]);
      expect(rest.code, rest.stderr).toBe(0);
      expect(rest.stdout).toBe(`re-drove 1 dead letter(s) of group ${group} to ${topic}: ${ids[1]}; 0 left\n`);
      await eventually(() => handled.includes(ids[1]), "the second re-driven message handled");
      expect(await listLetters(topic, group)).toEqual([]);
      expect(handled.sort()).toEqual([...ids].sort());
    }, TEST_TIMEOUT_MS);
  });
}
