import { Writable } from "node:stream";
import { trace } from "@opentelemetry/api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createInProcessTransport, createServer } from "../../src/index.js";
import { ferryLogOptions } from "../../src/observability/index.js";
import { EchoService } from "../gen/ferry/test/v1/echo_pb.js";
import { eventually, startOtelHarness, type OtelHarness } from "./otel-harness.js";

/** A pino logger built like Ferry's default one, writing JSON lines into `lines`. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n")) if (l !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ ...ferryLogOptions(), level: "info" }, stream) };
}

describe("ferryLogOptions()", () => {
  let otel: OtelHarness;
  beforeAll(() => (otel = startOtelHarness()));
  afterAll(() => otel.shutdown());

  it("adds the active span's trace_id and span_id, and nothing outside a span", async () => {
    const { lines, logger } = capture();
    logger.info("outside");
    const ids = trace.getTracer("test").startActiveSpan("work", (span) => {
      logger.info("inside");
      span.end();
      return span.spanContext();
    });
    await eventually(() => expect(lines).toHaveLength(2));
    expect(lines[0]).not.toHaveProperty("trace_id");
    expect(lines[1]).toMatchObject({ msg: "inside", trace_id: ids.traceId, span_id: ids.spanId, trace_flags: "01" });
  });

  it("gives lines logged inside a handler the server span's ids", async () => {
    const { lines, logger } = capture();
    const server = createServer({ logger }).service(EchoService, {
      echo: (req) => {
        logger.info({ text: req.text }, "handling");
        return { text: req.text };
      },
    });
    await createClient(EchoService, createInProcessTransport(server)).echo({ text: "log me" });
    await eventually(() => expect(otel.spansNamed("ferry.test.v1.EchoService/Echo")).toHaveLength(2));
    const serverSpan = otel.spansNamed("ferry.test.v1.EchoService/Echo").find((s) => s.kind === 1)!;
    expect(lines.find((l) => l.msg === "handling")).toMatchObject({ trace_id: serverSpan.spanContext().traceId, span_id: serverSpan.spanContext().spanId });
    await server.shutdown(0);
  });

  it("redacts authorization headers, tokens and passwords in URLs, messages and errors", async () => {
    const { lines, logger } = capture();
    logger.warn(
      { headers: { authorization: "Bearer abc.def" }, metadata: { authorization: "Basic dXNlcjpwdw==" }, token: "t0k3n", url: "amqp://guest:guest@127.0.0.1:5672", err: new Error("cannot reach redis://:s3cret@cache:6379") },
      "connecting with Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
    );
    await eventually(() => expect(lines).toHaveLength(1));
    const text = JSON.stringify(lines[0]);
    for (const secret of ["abc.def", "dXNlcjpwdw", "t0k3n", "guest:guest", "s3cret", "eyJhbGci"]) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ url: "amqp://guest:[redacted]@127.0.0.1:5672", token: "[redacted]", headers: { authorization: "[redacted]" } });
  });
});
