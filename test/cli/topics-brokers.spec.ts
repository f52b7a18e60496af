/**
 * `ferry topics` on the real brokers (NATS JetStream, RabbitMQ, Redis
 * Streams), run as a user would: `ferry` child processes. A broker that is
 * not running is skipped with a one-line reason (a failure with
 * FERRY_REQUIRE_SERVICES=1). Every test uses its own topics under a random
 * root, removed afterwards with the conformance suite's cleanup.
 */
import { randomBytes } from "node:crypto";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueNameFor } from "../../src/messaging/amqp/amqp-topology.js";
import type { Broker } from "../../src/messaging/index.js";
import { runRoot } from "../messaging/conformance-helpers.js";
import { jsonLines, runFerry } from "./run-ferry.js";
import { ECHO_PROTO, echoTopic, killFerryChildren, libraryBroker, realBrokers, startFerry } from "./topics-cli-helpers.js";

const TEST_TIMEOUT_MS = 90_000;
const READY = /tailing .* Ctrl-C to stop/;

interface TailLine {
  topic: string;
  sequence: string;
  messageId: string;
  deliveryAttempt: number;
  headers: Record<string, string>;
  payloadJson?: unknown;
  message?: unknown;
}

for (const { adapter, skip } of await realBrokers()) {
  describe.skipIf(skip)(`ferry topics on ${adapter.name}`, () => {
    const root = runRoot();
    const url = adapter.url;
    let lib: Broker;
    let counter = 0;
    const topicName = (label: string): string => `${root}.${label}.${++counter}`;
    const canList = adapter.name !== "amqp";

    beforeAll(async () => {
      lib = await libraryBroker(adapter);
    });

    afterAll(async () => {
      killFerryChildren();
      await lib?.close();
      await adapter.cleanup(root);
    });

    /** The consumer groups `ferry topics list --json` reports for `topic` (brokers that can list). */
    async function groupsOf(topic: string): Promise<string[]> {
      const run = await runFerry(["topics", "list", url, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const entry = (jsonLines(run.stdout) as { topic: string; groups: string[] }[]).find((t) => t.topic === topic);
      return entry?.groups ?? [];
    }

    /** Whether the AMQP queue of `group` on `topic` still exists. */
    async function amqpQueueExists(topic: string, group: string): Promise<boolean> {
      const exchange = new URL(url).searchParams.get("exchange") ?? "ferry";
      const conn = await connect(url.replace(/\?.*$/, ""));
      try {
        const ch = await conn.createChannel();
        ch.on("error", () => {});
        return await ch.checkQueue(queueNameFor(exchange, group, topic)).then(() => true, () => false);
      } finally {
        await conn.close().catch(() => {});
      }
    }

    it("tail sees a message published by another ferry process and one published by the library", async () => {
      const topic = topicName("tail");
      const tail = startFerry(["topics", "tail", url, topic, "-n", "2", "--proto", ECHO_PROTO]);
      await tail.waitForStderr(READY);
      const pub = await runFerry(["topics", "publish", url, topic, "-d", '{"hello":"cli"}', "-H", "Region: eu", "--key", "customer-7", "--id", `cli-${root}`]);
      expect(pub.code, pub.stderr).toBe(0);
      expect(jsonLines(pub.stdout)[0]).toMatchObject({ topic, messageId: `cli-${root}`, duplicate: false });
      await lib.publish(echoTopic(topic), { text: "from the library" }, { messageId: `lib-${root}` });

      const done = await tail.exited;
      expect(done.code, done.stderr).toBe(0);
      const [first, second] = jsonLines(done.stdout) as TailLine[];
      expect(first).toMatchObject({ topic, messageId: `cli-${root}`, deliveryAttempt: 1, orderingKey: "customer-7", payloadJson: { hello: "cli" } });
      expect(first.headers).toMatchObject({ region: "eu", "ferry-message-id": `cli-${root}` });
      expect(second).toMatchObject({ messageId: `lib-${root}`, type: "ferry.test.v1.EchoRequest", message: { text: "from the library" } });
      if (adapter.name !== "amqp") expect(first.sequence).not.toBe("");

      // The temporary group is gone once the tail exited.
      const group = /temporary group (ferry-tail-[0-9a-f]+)/.exec(done.stderr)?.[1] ?? "";
      expect(group).not.toBe("");
      if (canList) expect(await groupsOf(topic)).not.toContain(group);
      else expect(await amqpQueueExists(topic, group)).toBe(false);
    }, TEST_TIMEOUT_MS);

    it("tail --from beginning replays what was published before it started; --from SEQUENCE starts there", async (ctx) => {
      const reason = adapter.skips["replay-beginning"];
      if (reason !== undefined) return ctx.skip(reason);
      const topic = topicName("replay");
      const receipts: { sequence: string }[] = [];
      for (const id of ["r1", "r2", "r3"]) {
        const pub = await runFerry(["topics", "publish", url, topic, "-d", `{"n":"${id}"}`, "--id", `${id}-${root}`]);
        expect(pub.code, pub.stderr).toBe(0);
        receipts.push(jsonLines(pub.stdout)[0] as { sequence: string });
      }
      const all = await runFerry(["topics", "tail", url, topic, "--from", "beginning", "-n", "3"]);
      expect(all.code, all.stderr).toBe(0);
      expect((jsonLines(all.stdout) as TailLine[]).map((l) => l.messageId)).toEqual([`r1-${root}`, `r2-${root}`, `r3-${root}`]);

      const fromSecond = await runFerry(["topics", "tail", url, topic, "--from", receipts[1].sequence, "-n", "2"]);
      expect(fromSecond.code, fromSecond.stderr).toBe(0);
      expect((jsonLines(fromSecond.stdout) as TailLine[]).map((l) => l.payloadJson)).toEqual([{ n: "r2" }, { n: "r3" }]);
    }, TEST_TIMEOUT_MS);

    it("tail --group joins a consumer group and acks what it prints", async () => {
      const topic = topicName("group");
      const group = `audit-${randomBytes(3).toString("hex")}`;
      const first = startFerry(["topics", "tail", url, topic, "--group", group, "-n", "1"]);
      await first.waitForStderr(READY);
      expect((await runFerry(["topics", "publish", url, topic, "-d", '"m1"', "--id", `m1-${root}`])).code).toBe(0);
      const one = await first.exited;
      expect(one.code, one.stderr).toBe(0);
      expect((jsonLines(one.stdout) as TailLine[]).map((l) => l.messageId)).toEqual([`m1-${root}`]);

      expect((await runFerry(["topics", "publish", url, topic, "-d", '"m2"', "--id", `m2-${root}`])).code).toBe(0);
      const again = await runFerry(["topics", "tail", url, topic, "--group", group, "-n", "1"]);
      expect(again.code, again.stderr).toBe(0);
      // m1 was acked by the first tail: the group resumes after it.
      expect((jsonLines(again.stdout) as TailLine[]).map((l) => l.messageId)).toEqual([`m2-${root}`]);
      if (canList) expect(await groupsOf(topic)).toContain(group);
    }, TEST_TIMEOUT_MS);

    it("Ctrl-C (SIGINT) ends a tail with exit status 0 and deletes its temporary group", async () => {
      const topic = topicName("sigint");
      const tail = startFerry(["topics", "tail", url, topic]);
      await tail.waitForStderr(READY);
      const group = /temporary group (ferry-tail-[0-9a-f]+)/.exec(tail.output.stderr)?.[1] ?? "";
      tail.child.kill("SIGINT");
      const done = await tail.exited;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toBe("");
      if (canList) expect(await groupsOf(topic)).not.toContain(group);
      else expect(await amqpQueueExists(topic, group)).toBe(false);
    }, TEST_TIMEOUT_MS);

    it(canList ? "topics list shows the topic with its message count" : "topics list explains that AMQP cannot list (UNIMPLEMENTED, exit 12)", async () => {
      const topic = topicName("list");
      const pub = await runFerry(["topics", "publish", url, topic, "-d", "-"], { stdin: '{"from":"stdin"}' });
      expect(pub.code, pub.stderr).toBe(0);
      const run = await runFerry(["topics", "list", url]);
      if (!canList) {
        expect(run.code).toBe(12);
        expect(run.stderr).toMatch(/^ERROR: UNIMPLEMENTED: RabbitMQ cannot list topics over AMQP 0-9-1/);
        return;
      }
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.split("\n")[0]).toMatch(/^TOPIC\s+MESSAGES\s+GROUPS$/);
      expect(run.stdout).toMatch(new RegExp(`^${topic.replace(/\./g, "\\.")}\\s+1\\s+-$`, "m"));
    }, TEST_TIMEOUT_MS);
  });
}
