/**
 * Every saga transition is a `transition` event, an event on the saga's span
 * and a span of its own; steps run in spans under the saga's span, which is
 * a child of the request that began the saga. Checked with the real
 * OpenTelemetry SDK and its in-memory exporter, on PGlite.
 */
import { context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLedger } from "../../test/consistency/fake-ledger.js";
import { ledgerSaga, testRunner } from "../../test/consistency/saga-fixtures.js";
import { storeKinds, waitFor, type TestStore } from "../../test/consistency/test-stores.js";
import { FaultPoint } from "./fault-hook.js";
import type { SagaDefinition } from "./saga-definition.js";

const pglite = (await storeKinds())[0];
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const named = (prefix: string) => exporter.getFinishedSpans().filter((s) => s.name.startsWith(prefix));

describe("saga spans and transition events", () => {
  let t: TestStore;
  beforeAll(async () => {
    provider.register();
    t = await pglite.open();
  });
  afterAll(async () => {
    await t?.dispose();
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  it("a compensated saga: one span per transition and per step, under the saga span, under the caller's span", async () => {
    exporter.reset();
    const ledger = new FakeLedger();
    ledger.failing.add("s2");
    const saga = ledgerSaga("traced", 2, ledger);
    const runner = testRunner(t.store, [saga as SagaDefinition<never>]);
    const events: string[] = [];
    runner.events.on("transition", (e) => events.push(e.kind));
    const tracer = trace.getTracer("test");
    const status = await tracer.startActiveSpan("checkout request", async (request) => {
      try {
        return await runner.run(saga, { order: "o" }, { sagaId: "traced-1" });
      } finally {
        request.end();
      }
    });
    await runner.stop();
    expect(status.status).toBe("compensated");
    const history = status.history.map((h) => h.kind);
    expect(events).toEqual(history);
    expect(history).toEqual(["started", "step_completed", "step_failed", "compensation_completed", "compensation_completed", "compensated"]);

    const [request] = named("checkout request");
    const [sagaSpan] = exporter.getFinishedSpans().filter((s) => s.name === "saga traced");
    expect(parentOf(sagaSpan)).toBe(request.spanContext().spanId);
    expect(sagaSpan.attributes).toMatchObject({ "ferry.saga.name": "traced", "ferry.saga.id": "traced-1", "ferry.saga.status": "compensated" });
    expect(sagaSpan.events.map((e) => e.name)).toEqual(history);

    const transitions = history.map((kind) => named(`saga traced ${kind}`));
    for (const spans of transitions) for (const s of spans) expect(parentOf(s)).toBe(sagaSpan.spanContext().spanId);
    expect(transitions.map((spans) => spans.length)).toEqual([1, 1, 1, 2, 2, 1]); // compensation_completed: both entries of the history
    const failed = named("saga traced step_failed")[0];
    expect(failed.attributes).toMatchObject({ "ferry.saga.transition": "step_failed", "ferry.saga.step": "s2", "ferry.saga.status": "compensating" });
    expect(failed.status.code).toBe(2); // ERROR

    const steps = ["saga traced s1", "saga traced s2", "saga traced s2 compensation", "saga traced s1 compensation"].map((n) => exporter.getFinishedSpans().filter((s) => s.name === n));
    for (const [span] of steps) expect(parentOf(span)).toBe(sagaSpan.spanContext().spanId);
  });

  it("a resumed saga gets a new saga span with a resumed transition", async () => {
    exporter.reset();
    const saga = ledgerSaga("resumed", 2, new FakeLedger());
    let crash = true;
    const first = testRunner(t.store, [saga as SagaDefinition<never>], (point) => {
      if (crash && point === FaultPoint.sagaAfterPersist) throw new Error("crash (test)");
    });
    await first.begin(saga, { order: "o" }, { sagaId: "resumed-1" });
    await waitFor(() => named("saga resumed step_completed").length === 1, "the first step");
    await first.stop();
    crash = false;
    const second = testRunner(t.store, [saga as SagaDefinition<never>]);
    await second.start();
    expect((await second.wait("resumed-1")).status).toBe("committed");
    await second.stop();
    const sagaSpans = exporter.getFinishedSpans().filter((s) => s.name === "saga resumed");
    expect(sagaSpans.map((s) => s.events.map((e) => e.name))).toEqual([
      ["started", "step_completed"],
      ["resumed", "step_completed", "committed"],
    ]);
    expect(parentOf(sagaSpans[1])).toBeUndefined(); // a root: the request that began it is long gone
  });
});
