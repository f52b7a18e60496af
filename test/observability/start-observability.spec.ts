import { trace } from "@opentelemetry/api";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { Code, createClient, createInProcessTransport, createServer } from "../../src/index.js";
import { startObservability, type Observability } from "../../src/observability/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { decodeJsonTraceRequest, decodeTraceRequest, startOtlpReceiver } from "./otlp-receiver.js";

const OTEL_KEYS = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_METRICS_EXPORTER", "OTEL_TRACES_SAMPLER"];
const silent = { error() {}, warn() {}, info() {}, debug() {} };

function setEnv(values: Record<string, string>): void {
  for (const k of OTEL_KEYS) delete process.env[k];
  Object.assign(process.env, values);
}

/** Serves Echo in process; the handler records the trace id it runs under. */
function echoPair() {
  const seen: string[] = [];
  const server = createServer({ logger: silent }).service(EchoService, {
    echo: (req) => {
      seen.push(trace.getActiveSpan()?.spanContext().traceId ?? "none");
      return { text: req.text };
    },
  });
  return { server, seen, client: createClient(EchoService, createInProcessTransport(server)) };
}

/**
 * The `_count` or `_sum` series of histogram `name`, with their labels.
 * parse-prometheus-text-format 1.1 merges a histogram's labelled series
 * into one and drops the labels, so the TYPE line is removed and the
 * series are read as untyped samples, still by the same parser.
 */
function histogramSeries(text: string, name: string, suffix: "count" | "sum") {
  const untyped = text.replace(`# TYPE ${name} histogram\n`, "");
  return parsePrometheusTextFormat(untyped).find((f) => f.name === `${name}_${suffix}`)?.metrics ?? [];
}

describe("startObservability()", () => {
  let obs: Observability | undefined;
  afterEach(async () => {
    await obs?.shutdown();
    obs = undefined;
    setEnv({});
  });

  it("serves /metrics in the Prometheus format with rpc.server.duration by service, method and code", async () => {
    setEnv({ OTEL_METRICS_EXPORTER: "prometheus" });
    process.argv.push("--broker", "amqp://guest:hunter2@127.0.0.1:5672");
    obs = await startObservability({ serviceName: "metrics-test", metricsPort: 0 });
    process.argv.splice(-2);
    expect(obs.tracing).toBe(false);
    const { server, client } = echoPair();
    for (let i = 0; i < 7; i++) await client.echo({ text: "x" });
    const text = await (await fetch(obs.metricsUrl!)).text();
    const families = parsePrometheusTextFormat(text); // throws on any line outside the exposition format
    // The exporter writes the unit as a "# UNIT" line; newer versions may also suffix the name with it.
    const name = families.find((f) => f.name === "rpc_server_duration" || f.name === "rpc_server_duration_milliseconds")?.name;
    expect(families.find((f) => f.name === name)?.type).toBe("HISTOGRAM");
    const echo = histogramSeries(text, name!, "count").find((m) => m.labels?.rpc_method === "Echo");
    expect(echo?.labels).toMatchObject({ rpc_service: "ferry.test.v1.EchoService", rpc_grpc_status_code: "0", rpc_system: "ferry", ferry_transport: "inproc" });
    expect(echo?.value).toBe("7");
    expect((await fetch(obs.metricsUrl!.replace("/metrics", "/other"))).status).toBe(404);
    const targetInfo = families.find((f) => f.name === "target_info")?.metrics[0].labels;
    expect(targetInfo?.service_name).toBe("metrics-test");
    expect(text).not.toContain("hunter2");
    expect(targetInfo?.process_command_args).toContain("amqp://guest:[redacted]@127.0.0.1:5672");
    await server.shutdown(0);
  });

  it.each(["http/protobuf", "http/json"])("exports traces over OTLP/HTTP (%s) when OTEL_EXPORTER_OTLP_ENDPOINT is set", async (protocol) => {
    const receiver = await startOtlpReceiver();
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "otlp-env-name", OTEL_METRICS_EXPORTER: "none" });
    obs = await startObservability({ serviceName: "overridden-by-env", metricsPort: false });
    expect(obs.tracing).toBe(true);
    const { server, client, seen } = echoPair();
    await client.echo({ text: "traced" });
    await obs.forceFlush();
    const exports = receiver.requests.filter((r) => r.path === "/v1/traces");
    expect(exports.length).toBeGreaterThan(0);
    expect(exports[0].contentType).toContain(protocol === "http/json" ? "application/json" : "application/x-protobuf");
    const spans = exports.flatMap((r) => (protocol === "http/json" ? decodeJsonTraceRequest(r.body) : decodeTraceRequest(r.body))).filter((s) => s.name === "ferry.test.v1.EchoService/Echo");
    expect(spans).toHaveLength(2);
    expect(spans.map((s) => s.traceId)).toEqual([seen[0], seen[0]]);
    const clientSpan = spans.find((s) => s.kind === 3)!;
    const serverSpan = spans.find((s) => s.kind === 2)!;
    expect(serverSpan.parentSpanId).toBe(clientSpan.spanId);
    expect(new Set(spans.map((s) => s.serviceName))).toEqual(new Set(["otlp-env-name"]));
    await server.shutdown(0);
    await receiver.close();
  });

  it("refuses to start twice (FAILED_PRECONDITION) and starts again after shutdown", async () => {
    setEnv({ OTEL_METRICS_EXPORTER: "prometheus" });
    obs = await startObservability({ metricsPort: 0 });
    await expect(startObservability({ metricsPort: 0 })).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
    await obs.shutdown();
    obs = await startObservability({ metricsPort: 0 });
    expect(obs.metricsUrl).toBeDefined();
  });

  it("honours OTEL_TRACES_SAMPLER=always_off: nothing exported, calls still work", async () => {
    const receiver = await startOtlpReceiver();
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: "always_off", OTEL_METRICS_EXPORTER: "none" });
    obs = await startObservability({ metricsPort: false });
    const { server, client } = echoPair();
    expect((await client.echo({ text: "dropped" })).text).toBe("dropped");
    await obs.forceFlush();
    expect(receiver.requests.filter((r) => r.path === "/v1/traces")).toHaveLength(0);
    await server.shutdown(0);
    await receiver.close();
  });
});
