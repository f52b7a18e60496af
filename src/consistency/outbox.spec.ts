import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeKinds, type TestStore } from "../../test/consistency/test-stores.js";
import { testTopic } from "../../test/consistency/test-brokers.js";
import { installTestPropagator, setTestTraceparent } from "../../test/consistency/test-propagator.js";
import { defineTopic } from "../messaging/topic.js";
import { EchoRequestSchema } from "../../test/gen/ferry/test/v1/echo_pb.js";
import { Code } from "../rpc/code.js";
import { createOutbox } from "./outbox.js";

const kinds = await storeKinds();
installTestPropagator();

describe.each(kinds)("Outbox on $name", (kind) => {
  let t: TestStore;
  const topic = testTopic();
  beforeAll(async () => {
    if (!kind.skip) t = await kind.open();
  });
  afterAll(async () => t?.dispose());
  const outbox = () => createOutbox({ schema: t.store.schema });

  it.skipIf(kind.skip)("inserts the event in the caller's transaction and returns the row id as message id", async () => {
    const before = await outbox().pendingCount(t.store);
    const id = await t.store.transaction((tx) => outbox().publish(tx, topic, { text: "a" }, { orderingKey: "order-1", headers: { tenant: "t1" } }));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const rows = await t.store.query(`SELECT topic, ordering_key, type, headers FROM ${t.store.schema}.ferry_outbox WHERE id = $1`, [id]);
    expect(rows).toEqual([{ topic: topic.name, ordering_key: "order-1", type: "ferry.test.v1.EchoRequest", headers: { tenant: "t1" } }]);
    expect(await outbox().pendingCount(t.store)).toBe(before + 1);
  });

  it.skipIf(kind.skip)("leaves no event when the transaction rolls back", async () => {
    const before = await outbox().pendingCount(t.store);
    await expect(
      t.store.transaction(async (tx) => {
        await outbox().publish(tx, topic, { text: "never" });
        throw new Error("business rule failed");
      }),
    ).rejects.toThrow("business rule failed");
    expect(await outbox().pendingCount(t.store)).toBe(before);
  });

  it.skipIf(kind.skip)("stores the active trace context with the row", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    setTestTraceparent(traceparent);
    try {
      const id = await t.store.transaction((tx) => outbox().publish(tx, topic, { text: "traced" }));
      const rows = await t.store.query<{ headers: Record<string, string> }>(`SELECT headers FROM ${t.store.schema}.ferry_outbox WHERE id = $1`, [id]);
      expect(rows[0].headers.traceparent).toBe(traceparent);
    } finally {
      setTestTraceparent(undefined);
    }
  });

  it.skipIf(kind.skip)("rejects bad input with INVALID_ARGUMENT or RESOURCE_EXHAUSTED and inserts nothing", async () => {
    const before = await outbox().pendingCount(t.store);
    const cases: [() => Promise<unknown>, Code][] = [
      [() => t.store.transaction((tx) => outbox().publish(tx, defineTopic("x.*", EchoRequestSchema), { text: "" })), Code.INVALID_ARGUMENT],
      [() => t.store.transaction((tx) => outbox().publish(tx, topic, { text: "" }, { orderingKey: "has space" })), Code.INVALID_ARGUMENT],
      [() => t.store.transaction((tx) => outbox().publish(tx, topic, { text: "" }, { messageId: "not-a-uuid" })), Code.INVALID_ARGUMENT],
      [() => t.store.transaction((tx) => outbox().publish(tx, topic, { text: "" }, { headers: { "ferry-x": "1" } })), Code.INVALID_ARGUMENT],
      [() => t.store.transaction((tx) => outbox().publish(tx, topic, null as never)), Code.INVALID_ARGUMENT],
      [() => outbox().publish(undefined as never, topic, { text: "" }), Code.INVALID_ARGUMENT],
      [
        () => t.store.transaction((tx) => createOutbox({ schema: t.store.schema, maxPayloadBytes: 10 }).publish(tx, topic, { text: "x".repeat(20) })),
        Code.RESOURCE_EXHAUSTED,
      ],
    ];
    for (const [run, code] of cases) await expect(run()).rejects.toMatchObject({ code });
    expect(await outbox().pendingCount(t.store)).toBe(before);
  });
});

describe("createOutbox()", () => {
  it("rejects a bad schema or limit with INVALID_ARGUMENT", () => {
    expect(() => createOutbox({ schema: "a b" })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createOutbox({ maxPayloadBytes: 0 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
  });
});
