/**
 * A callee for saga tests that applies each command once per idempotency
 * key, as a real service does with the `idempotency-key` metadata: `apply`
 * and `undo` record every call (the commands the saga sent) and keep the
 * net effect per step, so a test can check that a saga ends all-committed
 * or all-compensated whatever was retried or redone.
 */
import { Code } from "../../src/rpc/code.js";
import { FerryError } from "../../src/rpc/ferry-error.js";

export class FakeLedger {
  /** Every call in order: `do <key>` or `undo <key>`. */
  readonly calls: string[] = [];
  /** Net effect per step name: 1 applied, 0 not applied or undone. */
  readonly effects = new Map<string, number>();
  readonly #done = new Set<string>();
  /** Step name → number of upcoming action calls that fail (UNAVAILABLE, retryable) before one succeeds. */
  readonly transientFailures = new Map<string, number>();
  /** Step names whose action fails for good (FAILED_PRECONDITION). */
  readonly failing = new Set<string>();
  /** Step name → number of upcoming compensation calls that fail. */
  readonly compensationFailures = new Map<string, number>();

  /** The action of step `step` under idempotency key `key`. */
  async apply(step: string, key: string): Promise<{ step: string }> {
    this.calls.push(`do ${key}`);
    await Promise.resolve();
    if (this.failing.has(step)) throw new FerryError(Code.FAILED_PRECONDITION, `${step} refused`);
    if (this.#take(this.transientFailures, step)) throw new FerryError(Code.UNAVAILABLE, `${step} unavailable`);
    if (!this.#done.has(key)) {
      this.#done.add(key);
      this.effects.set(step, (this.effects.get(step) ?? 0) + 1);
    }
    return { step };
  }

  /** The compensation of step `step` for the action key `actionKey`: undoes it once, if it was applied. */
  async undo(step: string, actionKey: string): Promise<void> {
    this.calls.push(`undo ${actionKey}`);
    await Promise.resolve();
    if (this.#take(this.compensationFailures, step)) throw new FerryError(Code.UNAVAILABLE, `undo ${step} unavailable`);
    if (this.#done.delete(actionKey)) this.effects.set(step, (this.effects.get(step) ?? 0) - 1);
  }

  /** Distinct commands in the order first sent (what an idempotent callee acted on). */
  distinctCalls(): string[] {
    return [...new Set(this.calls)];
  }

  #take(map: Map<string, number>, step: string): boolean {
    const n = map.get(step) ?? 0;
    if (n <= 0) return false;
    map.set(step, n - 1);
    return true;
  }
}
