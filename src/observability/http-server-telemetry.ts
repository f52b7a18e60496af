import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Histogram, type Span } from "@opentelemetry/api";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from "@opentelemetry/semantic-conventions";
import { currentTracer, instrumentsPerMeter } from "./telemetry-providers.js";

export { injectTraceContext } from "./metadata-carrier.js";

/** Bucket boundaries of `http.server.request.duration`, in seconds (the HTTP conventions' advice). */
const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const httpInstruments = instrumentsPerMeter((meter) => ({
  duration: meter.createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
    description: "Duration of HTTP server requests",
    unit: "s",
    advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS_S },
  }) as Histogram,
}));

// The route matched for the request being served, kept on the request so the metric can use it.
const routes = new WeakMap<IncomingMessage, string>();

/**
 * Serves one HTTP request inside a SERVER span, per the OpenTelemetry HTTP
 * conventions: named `{method}` until {@link recordHttpRoute} names the
 * route (`POST /v1/carts/{user_id}/checkout`), child of the W3C trace
 * context in the request headers, with `http.request.method`, `url.path`,
 * `url.scheme`, `server.address`/`server.port`, `client.address`,
 * `user_agent.original`, and — when the response is sent or the client goes away —
 * `http.response.status_code`, status ERROR for 5xx (4xx are the client's
 * errors on a server span). Records `http.server.request.duration` (s).
 * Never records bodies or headers. Without an SDK it just runs `serve`.
 */
export function traceHttpRequest(req: IncomingMessage, res: ServerResponse, serve: () => Promise<void>): Promise<void> {
  const tracer = currentTracer();
  const instruments = httpInstruments();
  if (tracer === undefined && instruments === undefined) return serve();
  const method = req.method ?? "GET";
  const startMs = performance.now();
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer?.startSpan(method, { kind: SpanKind.SERVER }, parent);
  if (span?.isRecording() === true) span.setAttributes(requestAttributes(req, method));
  let ended = false;
  // "finish": the response was handed to the OS; "close" alone: the client went away first.
  const end = () => {
    if (ended) return;
    ended = true;
    const status = res.headersSent ? res.statusCode : 499;
    if (span !== undefined) endHttpSpan(span, status);
    const attributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_RESPONSE_STATUS_CODE]: status, [ATTR_URL_SCHEME]: "http" };
    const route = routes.get(req);
    if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
    if (status >= 500) attributes[ATTR_ERROR_TYPE] = String(status);
    instruments?.duration.record((performance.now() - startMs) / 1000, attributes);
  };
  res.once("finish", end);
  res.once("close", end);
  return span === undefined ? serve() : context.with(trace.setSpan(parent, span), serve);
}

/**
 * Names the active HTTP server span after the matched route template
 * (`{method} {route}`) and sets `http.route`, for the span and the
 * duration metric. Call it once the gateway matched a route.
 */
export function recordHttpRoute(req: IncomingMessage, route: string): void {
  routes.set(req, route);
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.setAttribute(ATTR_HTTP_ROUTE, route);
  span.updateName(`${req.method ?? "GET"} ${route}`);
}

function requestAttributes(req: IncomingMessage, method: string): Attributes {
  const url = req.url ?? "/";
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: url.split("?")[0],
    [ATTR_URL_SCHEME]: "encrypted" in req.socket ? "https" : "http",
  };
  const host = req.headers.host;
  if (host !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
    if (m !== null) {
      attributes[ATTR_SERVER_ADDRESS] = m[1].replace(/^\[|\]$/g, "");
      if (m[2] !== undefined) attributes[ATTR_SERVER_PORT] = Number(m[2]);
    }
  }
  if (req.socket.remoteAddress !== undefined) attributes[ATTR_CLIENT_ADDRESS] = req.socket.remoteAddress;
  const agent = req.headers["user-agent"];
  if (agent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = agent;
  return attributes;
}

function endHttpSpan(span: Span, status: number): void {
  if (span.isRecording()) {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}
