import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { currentTracer } from "../observability/telemetry-providers.js";
import { createRetry, type RetryOptions } from "../resilience/retry.js";
import { createTimeout } from "../resilience/timeout.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { SagaCompensationContext, SagaDefinition, SagaStep, SagaStepContext } from "./saga-definition.js";
import type { SagaState } from "./saga-sql.js";

/** The registered SDK's tracer, looked up on every use (an SDK registered or replaced later is picked up); a no-op tracer without one. */
const tracer = () => currentTracer() ?? trace.getTracer("ferry");

/** Metadata key carrying a step's idempotency key to the callee. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";

/**
 * Runs `step`'s action for `state` under the step's retry and per-attempt
 * timeout (resilience's RetryPolicy and TimeoutPolicy), in a span
 * `saga <saga> <step>`. Resolves with the JSON form of its result.
 * `stop` aborts the attempt in flight (the runner is stopping).
 */
export async function runAction<I>(def: SagaDefinition<I>, step: SagaStep<I>, state: SagaState, stop: AbortSignal): Promise<unknown> {
  const key = `${state.id}:${step.name}`;
  const result = await runPolicy(def, step, step.retry ?? def.stepRetry, stop, `saga ${def.name} ${step.name}`, state.id, (signal, attempt) =>
    step.action(context(state, key, signal, attempt)),
  );
  return toJson(result, def.name, step.name);
}

/** Runs `step`'s compensation (a no-op when it has none) under the saga's compensation retry and the step's timeout. */
export async function runCompensation<I>(def: SagaDefinition<I>, step: SagaStep<I>, state: SagaState, stop: AbortSignal): Promise<void> {
  const compensation = step.compensation;
  if (compensation === undefined) return;
  const actionKey = `${state.id}:${step.name}`;
  await runPolicy(def, step, def.compensationRetry, stop, `saga ${def.name} ${step.name} compensation`, state.id, (signal, attempt) => {
    const ctx: SagaCompensationContext<I> = { ...context(state, `${actionKey}:compensation`, signal, attempt), result: state.results[step.name], actionKey, failure: state.error ?? "" };
    return compensation(ctx);
  });
}

async function runPolicy<I, T>(
  def: SagaDefinition<I>,
  step: SagaStep<I>,
  retry: RetryOptions,
  stop: AbortSignal,
  spanName: string,
  sagaId: string,
  fn: (signal: AbortSignal, attempt: number) => Promise<T>,
): Promise<T> {
  const retryPolicy = createRetry(retry);
  const timeout = createTimeout({ timeoutMs: step.timeoutMs ?? def.stepTimeoutMs });
  const attributes = { "ferry.saga.name": def.name, "ferry.saga.id": sagaId, "ferry.saga.step": step.name };
  return tracer().startActiveSpan(spanName, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      // Retry outside, timeout per attempt (the attempt number comes from the retry).
      return await retryPolicy.execute(
        (r) =>
          timeout.execute(async (t) => {
            try {
              return await fn(t.signal ?? stop, r.attempt);
            } catch (err) {
              throw FerryError.from(err, Code.UNKNOWN);
            }
          }, { signal: r.signal }),
        { signal: stop },
      );
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

function context<I>(state: SagaState, key: string, signal: AbortSignal, attempt: number): SagaStepContext<I> {
  return {
    sagaId: state.id,
    input: state.input as I,
    results: state.results,
    idempotencyKey: key,
    metadata: { [IDEMPOTENCY_KEY_HEADER]: key },
    signal,
    attempt,
  };
}

/** The result as it will read after a resume: JSON round trip (`undefined` → `null`). */
function toJson(value: unknown, saga: string, step: string): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (err) {
    throw new FerryError(Code.INVALID_ARGUMENT, `the result of step "${step}" of saga "${saga}" is not JSON-serialisable: ${(err as Error).message}`, { cause: err });
  }
}
