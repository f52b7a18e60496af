import { trace, type Attributes, type Meter, type ObservableResult } from "@opentelemetry/api";
import type { Channel } from "../channel/channel.js";
import type { ChannelEvent } from "../channel/channel-events.js";
import type { Resilience } from "../resilience/resilience.js";
import type { ResilienceEvent } from "../resilience/events.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { currentMeter, instrumentsPerMeter } from "./telemetry-providers.js";

/** Counter of resilience events by `ferry.event` (`retry.attempt`, `breaker.opened`, …) and policy name. */
export const METRIC_FERRY_RESILIENCE_EVENTS = "ferry.resilience.events";
/** Gauge per circuit breaker: 0 closed, 1 half-open, 2 open. */
export const METRIC_FERRY_CIRCUIT_BREAKER_STATE = "ferry.resilience.circuit_breaker.state";
/** Gauge per bulkhead: calls running (`ferry.bulkhead.state` = `active`) and waiting (`queued`). */
export const METRIC_FERRY_BULKHEAD_CALLS = "ferry.resilience.bulkhead.calls";
/** Counter of channel events by `ferry.event` (`endpoint.ejected`, `subchannel.state`, …) and target. */
export const METRIC_FERRY_CHANNEL_EVENTS = "ferry.channel.events";
/** Gauge of a channel's subchannels by `ferry.connectivity_state` (`READY`, `CONNECTING`, …) and whether ejected. */
export const METRIC_FERRY_CHANNEL_SUBCHANNELS = "ferry.channel.subchannels";

const breakerLevel = { closed: 0, "half-open": 1, open: 2 } as const;

const eventCounters = instrumentsPerMeter((meter) => ({
  resilience: meter.createCounter(METRIC_FERRY_RESILIENCE_EVENTS, { description: "Resilience policy events", unit: "{event}" }),
  channel: meter.createCounter(METRIC_FERRY_CHANNEL_EVENTS, { description: "Channel events", unit: "{event}" }),
}));

/**
 * Turns an event's plain fields into span-event attributes: numbers,
 * strings and booleans under `ferry.*` names; an `error` field becomes its
 * status code name; an `endpoint` its URL. Nested data is left out.
 */
export function eventAttributes(event: object): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === "type") continue;
    if (value instanceof FerryError) out["ferry.error.code"] = Code[value.code];
    else if (key === "endpoint" && typeof (value as { url?: unknown } | null)?.url === "string") out["ferry.endpoint"] = (value as { url: string }).url;
    else if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") out[`ferry.${key}`] = value;
  }
  return out;
}

/**
 * Makes the policies of `resilience` visible:
 *
 * - every event (retry attempt with its delay, hedged attempt, timeout,
 *   breaker opened/half-open/closed/rejected, bulkhead and rate-limit
 *   rejections, fallback used) becomes a span event `ferry.resilience.<type>`
 *   on the active span — the call's CLIENT span, since the client's built-in
 *   telemetry interceptor runs outside the resilience interceptor;
 * - {@link METRIC_FERRY_RESILIENCE_EVENTS} counts them;
 *   {@link METRIC_FERRY_CIRCUIT_BREAKER_STATE} reports every breaker's state and
 *   {@link METRIC_FERRY_BULKHEAD_CALLS} every bulkhead's occupancy through the
 *   global meter (read when metrics are collected).
 *
 * Returns a function that stops observing. Listeners never throw into calls.
 */
export function observeResilience(resilience: Resilience): () => void {
  const stop = resilience.events.onAny((event: ResilienceEvent) => {
    const attributes = eventAttributes(event);
    trace.getActiveSpan()?.addEvent(`ferry.resilience.${event.type}`, attributes);
    eventCounters()?.resilience.add(1, { "ferry.event": event.type, "ferry.policy": event.policy ?? "" });
  });
  const unobserveBreakers = observeGauge(METRIC_FERRY_CIRCUIT_BREAKER_STATE, "Circuit breaker state: 0 closed, 1 half-open, 2 open", (result) => {
    for (const [name, state] of Object.entries(resilience.breakerStates())) result.observe(breakerLevel[state.state], { "ferry.policy": name });
  });
  const unobserveBulkheads = observeGauge(METRIC_FERRY_BULKHEAD_CALLS, "Bulkhead calls running and waiting", (result) => {
    for (const [name, o] of Object.entries(resilience.bulkheadOccupancy())) {
      result.observe(o.active, { "ferry.policy": name, "ferry.bulkhead.state": "active" });
      result.observe(o.queued, { "ferry.policy": name, "ferry.bulkhead.state": "queued" });
    }
  });
  return () => {
    stop();
    unobserveBreakers();
    unobserveBulkheads();
  };
}

/**
 * Makes a channel visible: its events (resolver updates and errors,
 * subchannel state changes, picker updates, endpoint ejected/restored)
 * become span events `ferry.channel.<type>` on the active span (a call's
 * span when a call caused them) and are counted in
 * {@link METRIC_FERRY_CHANNEL_EVENTS}; {@link METRIC_FERRY_CHANNEL_SUBCHANNELS}
 * reports its subchannels by connectivity state. Returns a function that
 * stops observing.
 */
export function observeChannel(channel: Channel): () => void {
  const stop = channel.events.onAny((event: ChannelEvent) => {
    trace.getActiveSpan()?.addEvent(`ferry.channel.${event.type}`, eventAttributes(event));
    eventCounters()?.channel.add(1, { "ferry.event": event.type, "ferry.target": event.target });
  });
  const unobserve = observeGauge(METRIC_FERRY_CHANNEL_SUBCHANNELS, "Subchannels by connectivity state", (result) => {
    const counts = new Map<string, number>();
    for (const s of channel.subchannels) {
      const key = `${s.state}|${s.ejected}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counts) {
      const [state, ejected] = key.split("|");
      result.observe(n, { "ferry.target": channel.target, "ferry.connectivity_state": state, "ferry.ejected": ejected === "true" });
    }
  });
  return () => {
    stop();
    unobserve();
  };
}

/** Registers an observable gauge on the current meter (if any); returns its remover. */
function observeGauge(name: string, description: string, callback: (result: ObservableResult) => void): () => void {
  const meter: Meter | undefined = currentMeter();
  if (meter === undefined) return () => {};
  const gauge = meter.createObservableGauge(name, { description });
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/**
 * Adds a `ferry.channel.pick` event to the active span (the call's client
 * span) naming the endpoint the channel picked (`ferry.endpoint`) and the
 * pick attempt (`ferry.pick_attempt`, above 1 after a transparent retry on
 * another subchannel). Nothing when no span is recording.
 */
export function recordEndpointPicked(endpointUrl: string, attempt: number): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.addEvent("ferry.channel.pick", { "ferry.endpoint": endpointUrl, "ferry.pick_attempt": attempt });
}
