import { metrics, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { startOtelHarness, type OtelHarness } from "../../test/observability/otel-harness.js";
import { currentMeter, currentTracer, instrumentsPerMeter } from "./telemetry-providers.js";

describe("currentTracer() and currentMeter()", () => {
  let otel: OtelHarness | undefined;
  afterEach(async () => {
    await otel?.shutdown();
    otel = undefined;
  });

  it("are undefined while no SDK is registered (the API's no-op providers)", () => {
    expect(currentTracer()).toBeUndefined();
    expect(currentMeter()).toBeUndefined();
  });

  it("find an SDK registered later, and lose it when it is unregistered", async () => {
    otel = startOtelHarness();
    expect(currentTracer()).toBeDefined();
    expect(currentMeter()).toBeDefined();
    await otel.shutdown();
    otel = undefined;
    expect(currentTracer()).toBeUndefined();
    expect(currentMeter()).toBeUndefined();
  });

  it("follow a replaced SDK: spans go to the new one", async () => {
    otel = startOtelHarness();
    const first = currentTracer();
    await otel.shutdown();
    otel = startOtelHarness();
    expect(currentTracer()).not.toBe(first);
    currentTracer()!.startSpan("after").end();
    expect(otel.spansNamed("after")).toHaveLength(1);
    expect(trace.getTracerProvider()).toBeDefined();
  });
});

describe("instrumentsPerMeter()", () => {
  it("builds the instruments once per meter provider", async () => {
    let built = 0;
    const get = instrumentsPerMeter((meter) => {
      built++;
      return meter.createCounter("t");
    });
    expect(get()).toBeUndefined();
    const otel = startOtelHarness();
    expect(get()).toBe(get());
    expect(built).toBe(1);
    await otel.shutdown();
    expect(metrics.getMeterProvider()).toBeDefined();
    expect(get()).toBeUndefined();
  });
});
