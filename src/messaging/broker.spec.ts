import { afterAll, describe, expect, it } from "vitest";
import { EchoRequestSchema } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { Code } from "../rpc/code.js";
import { createBroker, defineTopic } from "./index.js";

const topic = defineTopic("broker-spec.events", EchoRequestSchema);

describe("createBroker()", () => {
  it("defaults to the embedded memory broker", async () => {
    const broker = await createBroker();
    expect(broker.kind).toBe("memory");
    await broker.close();
  });

  it.each([
    ["not a url", /invalid broker URL/],
    ["kafka://127.0.0.1:9092", /unknown broker scheme "kafka:"/],
  ])("rejects %s with INVALID_ARGUMENT", async (url, message) => {
    await expect(createBroker(url)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, rawMessage: expect.stringMatching(message) });
  });

  it("answers UNAVAILABLE when the NATS server does not answer", async () => {
    await expect(createBroker("nats://127.0.0.1:1")).rejects.toMatchObject({ code: Code.UNAVAILABLE });
  });
});

describe("Broker", () => {
  const brokerPromise = createBroker("memory:broker-spec");
  afterAll(async () => (await brokerPromise).close());

  describe("publish()", () => {
    it.each([
      ["a wildcard topic", defineTopic("broker-spec.*", EchoRequestSchema), {}, /invalid token "\*"/],
      ["an upper-case header key", topic, { headers: { Bad: "x" } }, /header key "Bad"/],
      ["a reserved header", topic, { headers: { "ferry-message-id": "x" } }, /reserved prefix/],
      ["a non-ASCII header value", topic, { headers: { a: "é" } }, /printable ASCII/],
      ["an empty message id", topic, { messageId: "" }, /messageId/],
      ["an ordering key with spaces", topic, { orderingKey: "a b" }, /orderingKey/],
    ])("rejects %s with INVALID_ARGUMENT", async (_what, t, options, message) => {
      const broker = await brokerPromise;
      await expect(broker.publish(t, { text: "x" }, options)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, rawMessage: expect.stringMatching(message) });
    });

    it("fails with FAILED_PRECONDITION after close()", async () => {
      const broker = await createBroker("memory:broker-spec-closed");
      await broker.close();
      await expect(broker.publish(topic, { text: "x" })).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    });
  });

  describe("subscribe()", () => {
    it("rejects a missing group with INVALID_ARGUMENT", async () => {
      const broker = await brokerPromise;
      await expect(broker.subscribe(topic, {} as never, () => {})).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    });
  });
});
