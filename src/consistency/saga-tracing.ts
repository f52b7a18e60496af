import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import { currentTracer } from "../observability/telemetry-providers.js";
import type { SagaStatusName, SagaTransitionKind } from "./saga-sql.js";

/** The registered SDK's tracer, looked up on every use (an SDK registered or replaced later is picked up); a no-op tracer without one. */
const tracer = () => currentTracer() ?? trace.getTracer("ferry");

/** Attribute names of saga spans (Ferry's own namespace: OpenTelemetry has no saga conventions). */
export const SagaAttributes = {
  name: "ferry.saga.name",
  id: "ferry.saga.id",
  step: "ferry.saga.step",
  transition: "ferry.saga.transition",
  status: "ferry.saga.status",
} as const;

/** What a transition is about. */
export interface SagaTransitionInfo {
  readonly sagaId: string;
  readonly saga: string;
  readonly kind: SagaTransitionKind;
  readonly step: string | null;
  readonly status: SagaStatusName;
}

/**
 * The spans of one execution of a saga by a runner (from `begin` or a resume
 * until the saga is final or the runner lets it go): an INTERNAL span
 * `saga <name>` whose parent is the context active at `begin` (the request
 * that started the checkout) — a root span after a resume — with the step
 * spans `saga <name> <step>` as children. Every persisted transition is an
 * event on that span and a span of its own, `saga <name> <transition>`
 * (attributes `ferry.saga.transition`, `ferry.saga.status`, `ferry.saga.step`).
 */
export class SagaTrace {
  readonly #span: Span;
  /** The context with the saga span active: run the saga's steps in it. */
  readonly context: Context;

  constructor(saga: string, sagaId: string, parent: Context = context.active()) {
    this.#span = tracer().startSpan(`saga ${saga}`, { kind: SpanKind.INTERNAL, attributes: { [SagaAttributes.name]: saga, [SagaAttributes.id]: sagaId } }, parent);
    this.context = trace.setSpan(parent, this.#span);
  }

  /** Records `t` as an event on the saga span and as a span of its own. */
  transition(t: SagaTransitionInfo, detail?: string | null): void {
    recordTransition(t, detail, this.context);
    this.#span.addEvent(t.kind, transitionAttributes(t));
  }

  /** Ends the saga span with the saga's last status (ERROR for `needs_attention`). */
  end(status: SagaStatusName | undefined): void {
    if (status !== undefined) this.#span.setAttribute(SagaAttributes.status, status);
    if (status === "needs_attention") this.#span.setStatus({ code: SpanStatusCode.ERROR, message: "the saga needs attention" });
    this.#span.end();
  }
}

/** A transition outside an execution (e.g. `retried`) as a span of its own in `parent`. */
export function recordTransition(t: SagaTransitionInfo, detail: string | null | undefined, parent: Context = context.active()): void {
  const span = tracer().startSpan(`saga ${t.saga} ${t.kind}`, { kind: SpanKind.INTERNAL, attributes: transitionAttributes(t) }, parent);
  if (t.kind === "step_failed" || t.kind === "compensation_failed") span.setStatus({ code: SpanStatusCode.ERROR, message: detail ?? t.kind });
  span.end();
}

function transitionAttributes(t: SagaTransitionInfo): Record<string, string> {
  const attributes: Record<string, string> = { [SagaAttributes.name]: t.saga, [SagaAttributes.id]: t.sagaId, [SagaAttributes.transition]: t.kind, [SagaAttributes.status]: t.status };
  if (t.step !== null) attributes[SagaAttributes.step] = t.step;
  return attributes;
}
