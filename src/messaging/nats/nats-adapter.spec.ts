import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EchoRequestSchema } from "../../../test/gen/ferry/test/v1/echo_pb.js";
import { checkService } from "../../../test/support/services.js";
import { Code } from "../../rpc/code.js";
import { createBroker, defineTopic, type Broker } from "../index.js";
import { chunkStreamName, chunkSubject } from "./nats-large-payloads.js";
import { natsDurableName, natsStreamName } from "./nats-topology.js";

describe("nats topology", () => {
  it("puts a topic in its root's stream, and dead letters in a stream per root", () => {
    expect(natsStreamName("shop.order.placed")).toBe("FERRY_shop");
    expect(natsStreamName("dead-letter.shop.order.placed")).toBe("FERRY_dead-letter_shop");
  });

  it("gives every (pattern, group) its own durable name", () => {
    const names = ["a.*", "a.>", "a.STAR", "a_STAR", "a.b"].map((p) => natsDurableName(p, "g"));
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

const check = await checkService("NATS", "127.0.0.1", 4222);

describe.skipIf(check.skip)("NatsAdapter", () => {
  const root = `n${randomBytes(4).toString("hex")}`;
  let broker: Broker;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    broker = await createBroker("nats://127.0.0.1:4222");
    nc = await connect({ servers: "127.0.0.1:4222" });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await broker.close();
    await jsm.streams.delete(natsStreamName(root)).catch(() => false);
    await jsm.streams.purge(chunkStreamName, { filter: chunkSubject(root) }).catch(() => undefined);
    await nc.close();
  });

  describe("consume()", () => {
    it("makes the group a durable consumer with ack_wait = ackTimeoutMs, filtered on the topic", async () => {
      const t = defineTopic(`${root}.durable`, EchoRequestSchema);
      const sub = await broker.subscribe(t, { group: "billing", ackTimeoutMs: 4000 }, () => {});
      const info = await jsm.consumers.info(natsStreamName(t.name), natsDurableName(t.name, "billing"));
      expect(info.config).toMatchObject({ ack_wait: 4000 * 1_000_000, filter_subject: t.name, max_deliver: -1 });
      await sub.stop();
    });

    it.each([
      [`*.x`, {}, /must start with a concrete token/],
      ["ok", { startAt: { sequence: "abc" } }, /not a JetStream stream sequence/],
    ])("rejects %s %o with INVALID_ARGUMENT", async (name, options, message) => {
      const t = defineTopic(name === "ok" ? `${root}.seq` : name, EchoRequestSchema);
      await expect(broker.subscribe(t, { group: "g", ...options }, () => {})).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, rawMessage: expect.stringMatching(message) });
    });
  });

  describe("publish()", () => {
    it("stores a payload above max_payload in chunks and hands the handler the whole payload", async () => {
      const t = defineTopic(`${root}.big`, EchoRequestSchema);
      const payload = randomBytes(2.5 * 1024 * 1024);
      let got: Uint8Array | undefined;
      let headers: Record<string, string> = {};
      const sub = await broker.subscribe(t, { group: "g" }, (m, d) => {
        got = m.payload;
        headers = { ...d.headers };
      });
      const before = (await jsm.streams.info(chunkStreamName).catch(() => undefined))?.state.messages ?? 0;
      await broker.publish(t, { payload });
      const after = (await jsm.streams.info(chunkStreamName)).state.messages;
      expect(after - before).toBe(3);
      await expect.poll(() => got?.byteLength, { timeout: 10_000 }).toBe(payload.byteLength);
      expect(Buffer.from(got!).equals(payload)).toBe(true);
      expect(headers["ferry-nats-chunks"]).toBeUndefined();
      await sub.stop();
    });

    it("terminates a message whose chunks are gone instead of handing out a wrong payload", async () => {
      const t = defineTopic(`${root}.lost`, EchoRequestSchema);
      await broker.publish(t, { payload: new Uint8Array(1_500_000) });
      await jsm.streams.purge(chunkStreamName, { filter: chunkSubject(root) });
      let calls = 0;
      const sub = await broker.subscribe(t, { group: "g", startAt: "beginning" }, () => void calls++);
      const durable = natsDurableName(t.name, "g");
      const settled = async () => {
        const info = await jsm.consumers.info(natsStreamName(t.name), durable);
        return info.delivered.stream_seq > 0 && info.num_ack_pending === 0 && info.num_pending === 0;
      };
      await expect.poll(settled, { timeout: 5000 }).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(calls).toBe(0);
      expect(await settled()).toBe(true); // terminated: not pending, not redelivered
      await sub.stop();
    });
  });
});
