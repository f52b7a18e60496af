import type { Attributes, Histogram, Meter, ObservableResult } from "@opentelemetry/api";
import type { MethodInfo } from "../contract/method-info.js";
import { METRIC_RPC_CLIENT_DURATION, METRIC_RPC_SERVER_DURATION } from "@opentelemetry/semantic-conventions/incubating";
import { instrumentsPerMeter } from "./telemetry-providers.js";

/**
 * Bucket boundaries of the call-duration histograms, in ms: the
 * OpenTelemetry RPC conventions' advice for `rpc.*.duration` (0 to 10 s).
 */
export const RPC_DURATION_BUCKETS_MS = Object.freeze([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);

/** Calls in flight, an observable UpDownCounter by side (Ferry's name; the conventions define none). */
export const METRIC_FERRY_RPC_CLIENT_ACTIVE_CALLS = "ferry.rpc.client.active_calls";
/** Calls being served now. */
export const METRIC_FERRY_RPC_SERVER_ACTIVE_CALLS = "ferry.rpc.server.active_calls";

/** The instruments of one side of a call. */
export interface RpcSideInstruments {
  /** Duration of each call, in ms (`rpc.client.duration` / `rpc.server.duration`). */
  readonly duration: Histogram;
  /** Calls started and not finished, by method. */
  readonly active: ActiveCalls;
}

/**
 * Calls in flight per method, counted in plain numbers and reported by an
 * observable UpDownCounter when the meter collects: a call costs two map
 * updates instead of two SDK `add()`s (each of which hashes its attribute set).
 */
export class ActiveCalls {
  readonly #counts = new Map<MethodInfo, { n: number; readonly attributes: Attributes }>();

  /** Adds `delta` (+1 when a call starts, -1 when it ends) to `info`'s count. */
  add(info: MethodInfo, delta: number): void {
    const entry = this.#counts.get(info);
    if (entry !== undefined) entry.n += delta;
    else this.#counts.set(info, { n: delta, attributes: { "rpc.service": info.service.typeName, "rpc.method": info.method.name } });
  }

  /** Reports every method's count (the observable instrument's callback). */
  observe(result: ObservableResult): void {
    for (const { n, attributes } of this.#counts.values()) result.observe(n, attributes);
  }
}

function sideInstruments(meter: Meter, side: "client" | "server"): RpcSideInstruments {
  const name = side === "client" ? METRIC_RPC_CLIENT_DURATION : METRIC_RPC_SERVER_DURATION;
  const active = new ActiveCalls();
  const gauge = meter.createObservableUpDownCounter(side === "client" ? METRIC_FERRY_RPC_CLIENT_ACTIVE_CALLS : METRIC_FERRY_RPC_SERVER_ACTIVE_CALLS, {
    description: side === "client" ? "Outbound RPC calls in flight" : "Inbound RPC calls being served",
    unit: "{call}",
  });
  gauge.addCallback((result) => active.observe(result));
  return {
    duration: meter.createHistogram(name, {
      description: side === "client" ? "Duration of outbound RPC calls" : "Duration of inbound RPC calls",
      unit: "ms",
      advice: { explicitBucketBoundaries: [...RPC_DURATION_BUCKETS_MS] },
    }),
    active,
  };
}

/** Client instruments of the current meter provider, or `undefined` without one. */
export const clientRpcInstruments = instrumentsPerMeter((meter) => sideInstruments(meter, "client"));

/** Server instruments of the current meter provider, or `undefined` without one. */
export const serverRpcInstruments = instrumentsPerMeter((meter) => sideInstruments(meter, "server"));
