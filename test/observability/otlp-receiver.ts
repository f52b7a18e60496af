import http from "node:http";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** One export request the receiver got. */
export interface OtlpRequest {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** An OTLP/HTTP receiver on a free loopback port that answers every export with 200. */
export async function startOtlpReceiver(): Promise<{ url: string; requests: OtlpRequest[]; close(): Promise<void> }> {
  const requests: OtlpRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", contentType: String(req.headers["content-type"]), body: Buffer.concat(chunks) });
      const json = String(req.headers["content-type"]).includes("json");
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A span as decoded from OTLP: ids in lower-case hex. */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  /** The `service.name` resource attribute. */
  serviceName: string;
}

/**
 * Decodes the spans of an `ExportTraceServiceRequest` in the protobuf
 * encoding, with the field numbers of opentelemetry-proto
 * (opentelemetry/proto/collector/trace/v1/trace_service.proto and
 * trace/v1/trace.proto): request.resource_spans = 1, ResourceSpans.scope_spans = 2,
 * ScopeSpans.spans = 2, Span.trace_id = 1, span_id = 2, parent_span_id = 4,
 * name = 5, kind = 6.
 */
export function decodeTraceRequest(body: Uint8Array): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const rs of fields(body, 1)) {
    const serviceName = resourceServiceName(fields(rs, 1)[0]);
    for (const ss of fields(rs, 2)) for (const s of fields(ss, 2)) spans.push({ ...decodeSpan(s), serviceName });
  }
  return spans;
}

/** Resource.attributes = 1 (KeyValue: key = 1, value = 2; AnyValue.string_value = 1). */
function resourceServiceName(resource: Uint8Array | undefined): string {
  if (resource === undefined) return "";
  for (const kv of fields(resource, 1)) {
    const key = strings(kv, 1)[0];
    if (key === "service.name") return strings(fields(kv, 2)[0] ?? new Uint8Array(), 1)[0] ?? "";
  }
  return "";
}

function strings(bytes: Uint8Array, no: number): string[] {
  return fields(bytes, no).map((b) => Buffer.from(b).toString("utf8"));
}

function decodeSpan(bytes: Uint8Array): Omit<DecodedSpan, "serviceName"> {
  const span = { traceId: "", spanId: "", parentSpanId: "", name: "", kind: 0 };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wt] = reader.tag();
    if (no === 1) span.traceId = Buffer.from(reader.bytes()).toString("hex");
    else if (no === 2) span.spanId = Buffer.from(reader.bytes()).toString("hex");
    else if (no === 4) span.parentSpanId = Buffer.from(reader.bytes()).toString("hex");
    else if (no === 5) span.name = reader.string();
    else if (no === 6) span.kind = reader.int32();
    else reader.skip(wt);
  }
  return span;
}

/** The length-delimited fields number `no` of a message. */
function fields(bytes: Uint8Array, no: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [n, wt] = reader.tag();
    if (n === no && wt === WireType.LengthDelimited) out.push(reader.bytes());
    else reader.skip(wt);
  }
  return out;
}

/** The spans of an OTLP/JSON `ExportTraceServiceRequest` (the protobuf JSON mapping; ids in hex as OTLP/JSON specifies). */
export function decodeJsonTraceRequest(body: Buffer): DecodedSpan[] {
  type Attr = { key: string; value: { stringValue?: string } };
  type Spans = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[];
  const req = JSON.parse(body.toString("utf8")) as { resourceSpans: { resource?: { attributes?: Attr[] }; scopeSpans: { spans: Spans }[] }[] };
  return req.resourceSpans.flatMap((rs) => {
    const serviceName = rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "";
    return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? "", name: s.name, kind: s.kind, serviceName })));
  });
}
