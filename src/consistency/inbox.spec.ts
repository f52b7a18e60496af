import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeKinds, type TestStore } from "../../test/consistency/test-stores.js";
import type { Delivery } from "../messaging/delivery.js";
import { Code } from "../rpc/code.js";
import { createInbox } from "./inbox.js";

const kinds = await storeKinds();

function delivery(messageId: string): Delivery {
  return {
    messageId,
    deliveryAttempt: 1,
    publishTime: new Date(),
    headers: {},
    topic: "shop.order.placed",
    orderingKey: undefined,
    sequence: "",
    deadline: undefined,
    signal: new AbortController().signal,
  };
}

describe.each(kinds)("Inbox on $name", (kind) => {
  let t: TestStore;
  beforeAll(async () => {
    if (kind.skip) return;
    t = await kind.open();
    await t.store.query(`CREATE TABLE ${t.store.schema}.effects (message text, grp text)`);
  });
  afterAll(async () => t?.dispose());
  const effects = async (message: string) =>
    (await t.store.query<{ grp: string }>(`SELECT grp FROM ${t.store.schema}.effects WHERE message = $1 ORDER BY grp`, [message])).map((r) => r.grp);
  const addEffect = (message: string, grp: string) => async (tx: { query: (s: string, p: unknown[]) => Promise<unknown> }) => {
    await tx.query(`INSERT INTO ${t.store.schema}.effects VALUES ($1, $2)`, [message, grp]);
  };

  it.skipIf(kind.skip)("handles a message id once per consumer group and skips redeliveries", async () => {
    const a = createInbox({ group: "a", schema: t.store.schema });
    const b = createInbox({ group: "b", schema: t.store.schema });
    const first = await t.store.transaction((tx) => a.handle(tx, delivery("m1"), async (x) => (await addEffect("m1", "a")(x), "r")));
    const again = await t.store.transaction((tx) => a.handle(tx, delivery("m1"), addEffect("m1", "a")));
    await t.store.transaction((tx) => b.handle(tx, delivery("m1"), addEffect("m1", "b")));
    expect(first).toEqual({ handled: true, result: "r" });
    expect(again).toEqual({ handled: false });
    expect(await effects("m1")).toEqual(["a", "b"]);
    expect(await a.isHandled(t.store, "m1")).toBe(true);
  });

  it.skipIf(kind.skip)("forgets the message when the handler's transaction rolls back, so a redelivery handles it", async () => {
    const inbox = createInbox({ group: "a", schema: t.store.schema });
    await expect(
      t.store.transaction((tx) =>
        inbox.handle(tx, delivery("m2"), async (x) => {
          await addEffect("m2", "a")(x);
          throw new Error("crash after effect, before commit");
        }),
      ),
    ).rejects.toThrow("crash after effect");
    expect(await inbox.isHandled(t.store, "m2")).toBe(false);
    await t.store.transaction((tx) => inbox.handle(tx, delivery("m2"), addEffect("m2", "a")));
    expect(await effects("m2")).toEqual(["a"]);
  });

  it.skipIf(kind.skip)("has one effect when the same message is handled concurrently (handler form)", async () => {
    const inbox = createInbox({ group: "c", schema: t.store.schema });
    const handler = inbox.handler(t.store, async (tx, _m: unknown, d) => addEffect(d.messageId, "c")(tx));
    await Promise.all([0, 1, 2, 3].map(() => handler({} as never, delivery("m3"))));
    expect(await effects("m3")).toEqual(["c"]);
  });

  it.skipIf(kind.skip)("prunes ids older than the retention", async () => {
    const inbox = createInbox({ group: "p", schema: t.store.schema, retentionMs: 0 });
    await t.store.transaction((tx) => inbox.handle(tx, delivery("m4"), async () => undefined));
    await new Promise((r) => setTimeout(r, 5));
    expect(await inbox.prune(t.store)).toBe(1);
    expect(await inbox.isHandled(t.store, "m4")).toBe(false);
  });
});

describe("createInbox()", () => {
  it("rejects a missing group, bad schema or retention, and a delivery without id, with INVALID_ARGUMENT", async () => {
    expect(() => createInbox({} as never)).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createInbox({ group: "g", schema: "A-B" })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => createInbox({ group: "g", retentionMs: -1 })).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    const inbox = createInbox({ group: "g" });
    await expect(inbox.handle({ query: async () => [] }, {} as never, async () => undefined)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
