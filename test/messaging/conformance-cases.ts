import { expect } from "vitest";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { defineTopic, FerryHeader, type Delivery } from "../../src/messaging/index.js";
import type { BrokerClient } from "../../src/messaging/broker.js";
import { CallContext, callContextStorage } from "../../src/rpc/call-context.js";
import { methodInfo } from "../../src/contract/method-info.js";
import { Metadata } from "../../src/rpc/metadata.js";
import { Code } from "../../src/rpc/code.js";
import { EchoService, type EchoRequest } from "../gen/ferry/test/v1/echo_pb.js";
import type { ConformanceCase } from "./adapters.js";
import { fastBackoff, Schema, sleep, waitFor, type CaseContext } from "./conformance-helpers.js";
import { crashRedelivery } from "./crash-redelivery.js";

type Case = (ctx: CaseContext) => Promise<void>;

/** Receives messages into an array. */
function collector(): { items: { m: EchoRequest; d: Delivery }[]; handler: (m: EchoRequest, d: Delivery) => void; texts(): string[] } {
  const items: { m: EchoRequest; d: Delivery }[] = [];
  return { items, handler: (m, d) => void items.push({ m, d }), texts: () => items.map((i) => i.m.text) };
}

const publishConfirm: Case = async ({ broker, topic, group }) => {
  const t = topic("confirm");
  const g = group("g");
  // Create the group, leave it, publish while no member runs: the broker alone holds the message.
  await (await broker.subscribe(t, { group: g }, () => {})).stop();
  const r = await broker.publish(t, { text: "a" }, { headers: { "x-color": "blue" } });
  expect(r.messageId).toMatch(/./);
  expect(r.duplicate).toBe(false);
  const c = collector();
  const sub = await broker.subscribe(t, { group: g }, c.handler);
  await waitFor(() => c.items.length === 1, "the stored message");
  const { d } = c.items[0];
  expect(d.messageId).toBe(r.messageId);
  expect(d.sequence).toBe(r.sequence);
  expect(d.deliveryAttempt).toBe(1);
  expect(d.headers["x-color"]).toBe("blue");
  expect(Math.abs(d.publishTime.getTime() - Date.now())).toBeLessThan(10_000);
  await sub.stop();
};

const fanOut: Case = async ({ broker, topic, group }) => {
  const t = topic("fanout");
  const a = collector();
  const b = collector();
  const subs = [await broker.subscribe(t, { group: group("a") }, a.handler), await broker.subscribe(t, { group: group("b") }, b.handler)];
  for (let i = 0; i < 5; i++) await broker.publish(t, { text: `m${i}` });
  await waitFor(() => a.items.length >= 5 && b.items.length >= 5, "both groups to get 5");
  await sleep(100);
  expect(a.texts().sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  expect(b.texts().sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  await Promise.all(subs.map((s) => s.stop()));
};

const competingConsumers: Case = async ({ broker, topic, group, newBroker }) => {
  const t = topic("compete");
  const g = group("workers");
  const other = await newBroker();
  const seen: string[][] = [[], []];
  const slow = (i: number) => async (m: EchoRequest) => {
    seen[i].push(m.text);
    await sleep(5);
  };
  const subs = [await broker.subscribe(t, { group: g, prefetch: 2 }, slow(0)), await other.subscribe(t, { group: g, prefetch: 2 }, slow(1))];
  const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
  for (const text of sent) await broker.publish(t, { text });
  await waitFor(() => seen[0].length + seen[1].length >= 30, "30 messages handled");
  await sleep(150);
  expect([...seen[0], ...seen[1]].sort()).toEqual([...sent].sort());
  expect(seen[0].length).toBeGreaterThan(0);
  expect(seen[1].length).toBeGreaterThan(0);
  await Promise.all(subs.map((s) => s.stop()));
};

const perKeyOrder: Case = async ({ broker, topic, group }) => {
  const t = topic("order");
  const byKey = new Map<string, number[]>();
  const sub = await broker.subscribe(t, { group: group("g"), concurrency: 4, prefetch: 16 }, async (m, d) => {
    await sleep(Math.random() * 4);
    const list = byKey.get(d.orderingKey ?? "") ?? [];
    list.push(m.count);
    byKey.set(d.orderingKey ?? "", list);
  });
  const keys = ["k1", "k2", "k3"];
  for (let i = 0; i < 45; i++) await broker.publish(t, { count: i }, { orderingKey: keys[i % 3] });
  await waitFor(() => [...byKey.values()].reduce((n, l) => n + l.length, 0) >= 45, "45 messages");
  keys.forEach((k, j) => expect(byKey.get(k)).toEqual(Array.from({ length: 15 }, (_, i) => i * 3 + j)));
  await sub.stop();
};

const perKeyOrderWithRetries: Case = async ({ broker, topic, group }) => {
  const t = topic("order-retry");
  const order = new Map<string, number[]>();
  const failOnce = new Set([4, 7]);
  const sub = await broker.subscribe(t, { group: group("g"), concurrency: 2, backoff: fastBackoff }, (m, d) => {
    if (failOnce.delete(m.count)) throw new Error(`transient failure of ${m.count}`);
    const list = order.get(d.orderingKey ?? "") ?? [];
    list.push(m.count);
    order.set(d.orderingKey ?? "", list);
  });
  for (let i = 0; i < 12; i++) await broker.publish(t, { count: i }, { orderingKey: i % 2 === 0 ? "even" : "odd" });
  await waitFor(() => [...order.values()].reduce((n, l) => n + l.length, 0) >= 12, "12 messages");
  expect(order.get("even")).toEqual([0, 2, 4, 6, 8, 10]);
  expect(order.get("odd")).toEqual([1, 3, 5, 7, 9, 11]);
  await sub.stop();
};

const deadLetter: Case = async ({ broker, topic, group }) => {
  const t = topic("dlq");
  const g = group("g");
  let calls = 0;
  const sub = await broker.subscribe(t, { group: g, maxDeliveries: 3, backoff: fastBackoff }, () => {
    calls++;
    throw new Error("boom: cannot handle");
  });
  const dl = collector();
  const dlSub = await broker.subscribe(defineTopic(t.deadLetterTopic, Schema), { group: group("dl"), startAt: "beginning" }, dl.handler);
  const { messageId } = await broker.publish(t, { text: "poison" }, { headers: { "x-trace": "1" } });
  await waitFor(() => dl.items.length === 1, "the dead letter");
  const h = dl.items[0].d.headers;
  expect(dl.items[0].m.text).toBe("poison");
  expect(dl.items[0].d.messageId).toBe(messageId);
  expect(h[FerryHeader.deadLetterReason]).toBe("boom: cannot handle");
  expect(h[FerryHeader.deadLetterTopic]).toBe(t.name);
  expect(h[FerryHeader.deadLetterGroup]).toBe(g);
  expect(h[FerryHeader.deadLetterAttempts]).toBe("3");
  expect(h["x-trace"]).toBe("1");
  expect(calls).toBe(3);
  await Promise.all([sub.stop(), dlSub.stop()]);
};

const replayBeginning: Case = async ({ broker, topic, group }) => {
  const t = topic("replay");
  for (const text of ["a", "b", "c"]) await broker.publish(t, { text });
  const c = collector();
  const sub = await broker.subscribe(t, { group: group("late"), startAt: "beginning" }, c.handler);
  await waitFor(() => c.items.length >= 3, "3 replayed messages");
  expect(c.texts()).toEqual(["a", "b", "c"]);
  await sub.stop();
};

const replaySequence: Case = async ({ broker, topic, group }) => {
  const t = topic("seq");
  const receipts = [];
  for (const text of ["a", "b", "c", "d"]) receipts.push(await broker.publish(t, { text }));
  const c = collector();
  const sub = await broker.subscribe(t, { group: group("g"), startAt: { sequence: receipts[2].sequence } }, c.handler);
  await waitFor(() => c.items.length >= 2, "2 messages from the sequence");
  await sleep(100);
  expect(c.texts()).toEqual(["c", "d"]);
  await sub.stop();
};

const replayTime: Case = async ({ broker, topic, group }) => {
  const t = topic("time");
  for (const text of ["old1", "old2"]) await broker.publish(t, { text });
  await sleep(50);
  const from = new Date();
  await sleep(50);
  for (const text of ["new1", "new2"]) await broker.publish(t, { text });
  const c = collector();
  const sub = await broker.subscribe(t, { group: group("g"), startAt: { time: from } }, c.handler);
  await waitFor(() => c.items.length >= 2, "2 messages after the time");
  await sleep(100);
  expect(c.texts()).toEqual(["new1", "new2"]);
  await sub.stop();
};

const redrive: Case = async ({ broker, topic, group }) => {
  const t = topic("redrive");
  const failing = group("failing");
  let fail = true;
  const handled = collector();
  const other = collector();
  const subs = [
    await broker.subscribe(t, { group: failing, maxDeliveries: 1, backoff: fastBackoff }, (m, d) => {
      if (fail) throw new Error("downstream down");
      handled.handler(m, d);
    }),
    await broker.subscribe(t, { group: group("healthy") }, other.handler),
  ];
  const ids = [];
  for (const text of ["a", "b", "c"]) ids.push((await broker.publish(t, { text })).messageId);
  await waitFor(() => other.items.length === 3, "the healthy group");
  await sleep(300); // let the failing group dead-letter all three
  fail = false;
  const result = await broker.redrive(t, { idleMs: 500 });
  expect(result.moved).toBe(3);
  await waitFor(() => handled.items.length === 3, "re-driven messages handled");
  expect(handled.items.map((i) => i.d.messageId).sort()).toEqual([...ids].sort());
  await sleep(200);
  expect(other.items.length).toBe(3); // the healthy group does not see re-driven messages again
  await Promise.all(subs.map((s) => s.stop()));
};

const largeMessage: Case = async ({ broker, topic, group }) => {
  const t = topic("large");
  const payload = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
  let got: Uint8Array | undefined;
  const sub = await broker.subscribe(t, { group: group("g") }, (m) => void (got = m.payload));
  await broker.publish(t, { payload });
  await waitFor(() => got !== undefined, "the 1 MiB message");
  expect(got?.byteLength).toBe(payload.byteLength);
  expect(Buffer.compare(Buffer.from(got!), Buffer.from(payload))).toBe(0);
  await sub.stop();
};

const oversize: Case = async ({ broker, topic }) => {
  // Beyond the broker's limit: a clear RESOURCE_EXHAUSTED before anything is sent, not a crash or a hang.
  const limit = broker.capabilities.maxMessageBytes;
  await expect(broker.publish(topic("oversize"), { payload: new Uint8Array(limit + 1) })).rejects.toMatchObject({
    code: Code.RESOURCE_EXHAUSTED,
    rawMessage: expect.stringMatching(/exceeds/),
  });
};

const undecodable: Case = async ({ broker, topic, group }) => {
  const t = topic("garbage");
  const g = group("g");
  const c = collector();
  const sub = await broker.subscribe(t, { group: g }, c.handler);
  // Read dead letters as google.protobuf.Empty: every field is unknown there, so any well-formed bytes decode.
  const dl: Delivery[] = [];
  const dlSub = await broker.subscribe(defineTopic(t.deadLetterTopic, EmptySchema), { group: group("dl"), startAt: "beginning" }, (_m, d) => void dl.push(d));
  // Field 1 (string text) holding invalid UTF-8: well-formed protobuf, but not a valid EchoRequest.
  const garbage = new Uint8Array([0x0a, 0x02, 0xff, 0xfe]);
  await (broker as BrokerClient).adapter.publish({
    topic: t.name,
    payload: garbage,
    headers: { [FerryHeader.messageId]: "garbage-1" },
    messageId: "garbage-1",
    dedupId: undefined,
    orderingKey: undefined,
  });
  await broker.publish(t, { text: "fine" });
  await waitFor(() => c.items.length === 1 && dl.length === 1, "the valid message and the dead letter");
  expect(c.texts()).toEqual(["fine"]);
  expect(dl[0].messageId).toBe("garbage-1");
  expect(dl[0].headers[FerryHeader.deadLetterCode]).toBe("DATA_LOSS");
  expect(dl[0].headers[FerryHeader.deadLetterReason]).toMatch(/undecodable payload: cannot decode ferry.test.v1.EchoRequest/);
  expect(dl[0].headers[FerryHeader.deadLetterAttempts]).toBe("1");
  await Promise.all([sub.stop(), dlSub.stop()]);
};

const wildcard: Case = async ({ broker, root, group }) => {
  const base = `${root}.wild${Date.now() % 100000}`;
  const c = collector();
  const sub = await broker.subscribe(defineTopic(`${base}.*`, Schema), { group: group("g") }, c.handler);
  await broker.publish(defineTopic(`${base}.a`, Schema), { text: "a" });
  await broker.publish(defineTopic(`${base}.x.deep`, Schema), { text: "deep" });
  await broker.publish(defineTopic(`${base}.b`, Schema), { text: "b" });
  await waitFor(() => c.items.length >= 2, "a and b");
  await sleep(100);
  expect(c.items.map((i) => [i.m.text, i.d.topic])).toEqual([["a", `${base}.a`], ["b", `${base}.b`]]);
  await sub.stop();
};

const headerFilter: Case = async ({ broker, topic, group }) => {
  const t = topic("filter");
  const c = collector();
  const sub = await broker.subscribe(t, { group: group("eu"), filter: { headers: { region: "eu" } } }, c.handler);
  await broker.publish(t, { text: "1" }, { headers: { region: "eu" } });
  await broker.publish(t, { text: "2" }, { headers: { region: "us" } });
  await broker.publish(t, { text: "3" });
  await broker.publish(t, { text: "4" }, { headers: { region: "eu" } });
  await waitFor(() => c.items.length >= 2, "the eu messages");
  await sleep(100);
  expect(c.texts()).toEqual(["1", "4"]);
  await sub.stop();
};

const deduplication: Case = async ({ broker, topic, group }) => {
  const t = topic("dedup");
  const first = await broker.publish(t, { text: "once" }, { messageId: "order-42" });
  const again = await broker.publish(t, { text: "once" }, { messageId: "order-42" });
  expect(first.duplicate).toBe(false);
  expect(again.duplicate).toBe(true);
  await broker.publish(t, { text: "marker" });
  const c = collector();
  const sub = await broker.subscribe(t, { group: group("g"), startAt: "beginning" }, c.handler);
  await waitFor(() => c.texts().includes("marker"), "the marker");
  expect(c.texts()).toEqual(["once", "marker"]);
  await sub.stop();
};

const gracefulStop: Case = async ({ broker, topic, group }) => {
  const t = topic("stop");
  const g = group("g");
  const started: string[] = [];
  const finished: string[] = [];
  const sub = await broker.subscribe(t, { group: g, concurrency: 2, prefetch: 4 }, async (m) => {
    started.push(m.text);
    await sleep(300);
    finished.push(m.text);
  });
  for (let i = 0; i < 4; i++) await broker.publish(t, { text: `m${i}` });
  await waitFor(() => started.length === 2, "two handlers to start");
  await sub.stop();
  expect(finished.sort()).toEqual([...started].sort()); // in-flight handlers finished before stop() resolved
  expect(started.length).toBe(2); // nothing new started after stop()
  const rest: string[] = [];
  const sub2 = await broker.subscribe(t, { group: g }, (m) => void rest.push(m.text));
  await waitFor(() => rest.length >= 2, "the two messages that were not started");
  await sleep(200);
  expect([...started, ...rest].sort()).toEqual(["m0", "m1", "m2", "m3"]); // none lost, none handled twice
  await sub2.stop();
};

const contextHeaders: Case = async ({ broker, topic, group }) => {
  const t = topic("ctx");
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const c = collector();
  const sub = await broker.subscribe(t, { group: group("g") }, c.handler);
  const call = new CallContext({
    method: methodInfo(EchoService.method.echo),
    requestMetadata: new Metadata({ traceparent, tracestate: "ferry=1" }),
    deadline: Date.now() + 5000,
    peer: "test",
    transport: "inproc",
  });
  await callContextStorage.run(call, () => broker.publish(t, { text: "traced" }));
  await waitFor(() => c.items.length === 1, "the traced message");
  const d = c.items[0].d;
  expect(d.headers.traceparent).toBe(traceparent);
  expect(d.headers.tracestate).toBe("ferry=1");
  const remaining = Number(d.headers[FerryHeader.deadlineMs]);
  expect(remaining).toBeGreaterThan(3000);
  expect(remaining).toBeLessThanOrEqual(5000);
  expect(Math.abs((d.deadline ?? 0) - call.deadline!)).toBeLessThan(1000);
  await sub.stop();
};

const ackExtension: Case = async ({ broker, topic, group, newBroker }) => {
  const t = topic("extend");
  const g = group("g");
  const other = await newBroker();
  const handled: string[] = [];
  const slow = async (m: EchoRequest) => {
    handled.push(m.text);
    await sleep(1000);
  };
  // A handler running three ack timeouts long keeps its message: Ferry extends the ack timer, so no other member gets it.
  const subs = [await broker.subscribe(t, { group: g, ackTimeoutMs: 300 }, slow), await other.subscribe(t, { group: g, ackTimeoutMs: 300 }, slow)];
  await broker.publish(t, { text: "long" });
  await sleep(1400);
  expect(handled).toEqual(["long"]);
  await Promise.all(subs.map((s) => s.stop()));
};

export const conformanceCases: Partial<Record<ConformanceCase, Case>> = {
  "publish-confirm": publishConfirm,
  "fan-out": fanOut,
  "competing-consumers": competingConsumers,
  "per-key-order": perKeyOrder,
  "per-key-order-with-retries": perKeyOrderWithRetries,
  "crash-redelivery": crashRedelivery,
  "dead-letter": deadLetter,
  "replay-beginning": replayBeginning,
  "replay-sequence": replaySequence,
  "replay-time": replayTime,
  redrive,
  "large-message": largeMessage,
  oversize,
  undecodable,
  wildcard,
  "header-filter": headerFilter,
  deduplication,
  "graceful-stop": gracefulStop,
  "context-headers": contextHeaders,
  "ack-extension": ackExtension,
};
