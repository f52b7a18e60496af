import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeLedger } from "../../test/consistency/fake-ledger.js";
import { ledgerSaga, testRunner } from "../../test/consistency/saga-fixtures.js";
import { storeKinds, waitFor, type TestStore } from "../../test/consistency/test-stores.js";
import { Code } from "../rpc/code.js";
import { FaultPoint } from "./fault-hook.js";
import { defineSaga } from "./saga-definition.js";
import type { SagaDefinition } from "./saga-definition.js";
import { finalSagaStatuses } from "./saga-runner.js";

const kinds = await storeKinds();
const n = 4;

describe.each(kinds)("SagaRunner on $name", (kind) => {
  let t: TestStore;
  beforeAll(async () => {
    if (!kind.skip) t = await kind.open();
  });
  afterAll(async () => t?.dispose());

  it.skipIf(kind.skip)("commits every step in order, passing each an idempotency key, and records the history", async () => {
    const ledger = new FakeLedger();
    const saga = ledgerSaga("ok", n, ledger);
    const runner = testRunner(t.store, [saga as SagaDefinition<never>]);
    const kinds: string[] = [];
    runner.events.on("transition", (e) => kinds.push(`${e.kind}${e.step === null ? "" : ` ${e.step}`}`));
    const status = await runner.run(saga, { order: "o1" }, { sagaId: "ok-1" });
    expect(status.status).toBe("committed");
    expect(status.results).toEqual({ s1: { step: "s1" }, s2: { step: "s2" }, s3: { step: "s3" }, s4: { step: "s4" } });
    expect(ledger.calls).toEqual(["do ok-1:s1", "do ok-1:s2", "do ok-1:s3", "do ok-1:s4"]);
    expect(status.history.map((h) => h.kind)).toEqual(["started", "step_completed", "step_completed", "step_completed", "step_completed", "committed"]);
    expect(kinds).toEqual(["started", "step_completed s1", "step_completed s2", "step_completed s3", "step_completed s4", "committed"]);
    await runner.stop();
  });

  it.skipIf(kind.skip)("a failure at each step k compensates steps k..1 in reverse order and ends all-compensated", async () => {
    for (let k = 1; k <= n; k++) {
      const ledger = new FakeLedger();
      ledger.failing.add(`s${k}`);
      const saga = ledgerSaga(`fail-${k}`, n, ledger);
      const runner = testRunner(t.store, [saga as SagaDefinition<never>]);
      const status = await runner.run(saga, { order: "o" }, { sagaId: `fail-${k}` });
      expect(status.status).toBe("compensated");
      expect(status.failedStep).toBe(k - 1);
      expect(status.error).toContain(`s${k} refused`);
      const undos = ledger.calls.filter((c) => c.startsWith("undo"));
      expect(undos).toEqual(Array.from({ length: k }, (_, i) => `undo fail-${k}:s${k - i}`));
      for (const v of ledger.effects.values()) expect(v).toBe(0);
      await runner.stop();
    }
  });

  it.skipIf(kind.skip)("retries a step on UNAVAILABLE with the same idempotency key", async () => {
    const ledger = new FakeLedger();
    ledger.transientFailures.set("s2", 2);
    const saga = ledgerSaga("transient", 2, ledger);
    const runner = testRunner(t.store, [saga as SagaDefinition<never>]);
    const status = await runner.run(saga, { order: "o" }, { sagaId: "transient-1" });
    expect(status.status).toBe("committed");
    expect(ledger.calls).toEqual(["do transient-1:s1", "do transient-1:s2", "do transient-1:s2", "do transient-1:s2"]);
    await runner.stop();
  });

  it.skipIf(kind.skip)("times out a step attempt and retries it (DEADLINE_EXCEEDED is retried by default)", async () => {
    let attempts = 0;
    const saga = defineSaga("slow", {
      stepTimeoutMs: 50,
      stepRetry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2, retryableStatusCodes: [Code.DEADLINE_EXCEEDED] },
      steps: [
        {
          name: "slow",
          action: async (ctx) => {
            attempts++;
            if (ctx.attempt === 1) await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error)));
            return "done";
          },
        },
      ],
    });
    const runner = testRunner(t.store, [saga as SagaDefinition<never>]);
    const status = await runner.run(saga, {}, { sagaId: "slow-1" });
    expect(status.status).toBe("committed");
    expect(attempts).toBe(2);
    await runner.stop();
  });

  it.skipIf(kind.skip)("marks the saga needs_attention when a compensation keeps failing, and retry() finishes it", async () => {
    const ledger = new FakeLedger();
    ledger.failing.add("s3");
    ledger.compensationFailures.set("s2", 100);
    const saga = ledgerSaga("stuck", 3, ledger);
    const runner = testRunner(t.store, [saga as SagaDefinition<never>]);
    await runner.start();
    const status = await runner.run(saga, { order: "o" }, { sagaId: "stuck-1" });
    expect(status.status).toBe("needs_attention");
    expect(status.attentionReason).toContain('compensation of step "s2" failed: UNAVAILABLE');
    ledger.compensationFailures.clear();
    expect(await runner.retry("stuck-1")).toBe(true);
    await runner.stop();
    const again = testRunner(t.store, [saga as SagaDefinition<never>]);
    await again.start();
    const final = await again.wait("stuck-1", { pollIntervalMs: 10 });
    expect(final.status).toBe("compensated");
    for (const v of ledger.effects.values()) expect(v).toBe(0);
    await again.stop();
  });

  it.skipIf(kind.skip)("resumes after a crash at every fault point and reaches the state of an uninterrupted run", async () => {
    const reference = new FakeLedger();
    reference.failing.add("s3");
    const refSaga = ledgerSaga("resume", n, reference);
    const refRunner = testRunner(t.store, [refSaga as SagaDefinition<never>]);
    const expected = await refRunner.run(refSaga, { order: "o" }, { sagaId: "resume-ref" });
    await refRunner.stop();
    const points = [FaultPoint.sagaAfterAction, FaultPoint.sagaAfterPersist, FaultPoint.sagaAfterCompensation];
    for (const point of points) {
      for (let hit = 1; hit <= 3; hit++) {
        const ledger = new FakeLedger();
        ledger.failing.add("s3");
        const saga = ledgerSaga("resume", n, ledger);
        const id = `resume-${point}-${hit}`;
        let seen = 0;
        let crashed = false;
        const crashing = testRunner(t.store, [saga as SagaDefinition<never>], (p) => {
          if (p === point && ++seen === hit) {
            crashed = true;
            throw new Error("crash");
          }
        });
        await crashing.begin(saga, { order: "o" }, { sagaId: id });
        await waitFor(async () => crashed || finalSagaStatuses.has((await crashing.status(id))!.status), "a crash or the end");
        await crashing.stop();
        const successor = testRunner(t.store, [saga as SagaDefinition<never>]);
        await successor.start();
        const final = await successor.wait(id, { pollIntervalMs: 5 });
        await successor.stop();
        expect({ point, hit, status: final.status }).toEqual({ point, hit, status: expected.status });
        expect(final.results).toEqual(expected.results);
        expect([...ledger.effects.values()].every((v) => v === 0)).toBe(true);
        const strip = (calls: string[], sagaId: string) => calls.map((c) => c.replace(`${sagaId}:`, ""));
        expect(strip(ledger.distinctCalls(), id)).toEqual(strip(reference.distinctCalls(), "resume-ref"));
      }
    }
  });

  it.skipIf(kind.skip)("begins idempotently with the same saga id, and rejects a saga id of another definition", async () => {
    const ledger = new FakeLedger();
    const a = ledgerSaga("a", 1, ledger);
    const b = ledgerSaga("b", 1, ledger);
    const runner = testRunner(t.store, [a, b] as SagaDefinition<never>[]);
    await runner.run(a, { order: "o" }, { sagaId: "same" });
    expect(await runner.begin(a, { order: "o" }, { sagaId: "same" })).toBe("same");
    expect(ledger.calls).toEqual(["do same:s1"]);
    await expect(runner.begin(b, { order: "o" }, { sagaId: "same" })).rejects.toMatchObject({ code: Code.ALREADY_EXISTS });
    await runner.stop();
  });
});

describe("defineSaga() and createSagaRunner()", () => {
  it("reject bad definitions and input with INVALID_ARGUMENT", async () => {
    const step = { name: "s", action: async () => 1 };
    for (const bad of [
      () => defineSaga("", { steps: [step] }),
      () => defineSaga("x", { steps: [] }),
      () => defineSaga("x", { steps: [step, step] }),
      () => defineSaga("x", { steps: [{ name: "s" } as never] }),
      () => defineSaga("x", { steps: [step], stepTimeoutMs: 0 }),
      () => testRunner({ schema: "public" } as never, [defineSaga("x", { steps: [step] }), defineSaga("x", { steps: [step] })] as never),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    }
    const runner = testRunner({ schema: "public" } as never, []);
    await expect(runner.begin(defineSaga("y", { steps: [step] }), {})).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });
});
