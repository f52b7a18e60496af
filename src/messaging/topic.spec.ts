import { describe, expect, it } from "vitest";
import { EchoRequestSchema } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { Code } from "../rpc/code.js";
import { deadLetterTopicFor, defineTopic, topicMatches } from "./topic.js";

describe("defineTopic()", () => {
  it("defines a topic with its dead-letter topic", () => {
    const t = defineTopic("shop.order.placed", EchoRequestSchema);
    expect(t).toMatchObject({ name: "shop.order.placed", deadLetterTopic: "dead-letter.shop.order.placed", wildcard: false });
  });

  it.each(["", "shop..order", "shop order", "shop.>.x", "shop/order", "a".repeat(201)])("rejects the name %j with INVALID_ARGUMENT", (name) => {
    expect(() => defineTopic(name, EchoRequestSchema)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });

  it("accepts wildcards and dead-letters each message to its own topic's dead-letter topic", () => {
    const t = defineTopic("shop.*.placed", EchoRequestSchema);
    expect(t.wildcard).toBe(true);
    expect(deadLetterTopicFor(t, "shop.order.placed")).toBe("dead-letter.shop.order.placed");
  });

  it("rejects a schema that is not a message descriptor", () => {
    expect(() => defineTopic("a", {} as never)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });
});

describe("topicMatches()", () => {
  it.each([
    ["a.*", "a.b", true],
    ["a.*", "a.b.c", false],
    ["a.>", "a.b.c", true],
    ["a.>", "a", false],
    ["a.b", "a.b", true],
    ["*.b", "a.b", true],
    ["a.b", "a.c", false],
  ])("%s matches %s: %s", (pattern, name, expected) => {
    expect(topicMatches(pattern, name)).toBe(expected);
  });
});
