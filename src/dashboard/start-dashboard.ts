/**
 * `startDashboard()`: the Ferry dashboard's HTTP server (node:http) — the
 * page, its JSON API and live events, and an OTLP/HTTP receiver — in any
 * process, or standalone through `ferry dashboard`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "@bufbuild/protobuf";
import type { MetricReader } from "@opentelemetry/sdk-metrics";
import type { Broker } from "../messaging/broker.js";
import type { ServiceRegistry } from "../registry/service-registry.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { AccessControl, isLoopbackHost } from "./access-control.js";
import { ApiExplorer } from "./api-explorer.js";
import { createRouter, type Connections } from "./dashboard-router.js";
import { sendError } from "./http-replies.js";
import { LiveFeed, type LiveFeedOptions } from "./live-feed.js";
import { createDashboardMetricReader, DEFAULT_METRIC_FEED_INTERVAL_MS } from "./metric-feed.js";
import { MessagingTools } from "./messaging-tools.js";
import { RegistryView } from "./registry-view.js";
import { DEFAULT_MAX_BODY_BYTES } from "./request-body.js";
import { createDashboardSpanProcessor, type DashboardSpanProcessor } from "./span-processor.js";
import { StaticAssets, type ResolveFile } from "./static-assets.js";
import { TelemetrySink, type DashboardLimits } from "./telemetry-sink.js";

/** The dashboard's default port. */
export const DEFAULT_DASHBOARD_PORT = 9400;
/** The dashboard's default bind address: loopback only. */
export const DEFAULT_DASHBOARD_HOST = "127.0.0.1";
/** Shortest token accepted, in characters (e.g. `openssl rand -hex 16` gives 32). */
export const MIN_TOKEN_LENGTH = 16;

/** What a dashboard can be linked to, at start or later with {@link Dashboard.attach}. */
export interface DashboardConnections {
  /**
   * A broker client (`createBroker()` of `ferry/messaging`) for the
   * Messaging view's actions: list a group's dead letters with their
   * payloads, re-drive one or all, replay a topic to a group from a time.
   * Without it those actions answer 501. The dashboard does not close it.
   */
  readonly broker?: Broker;
  /**
   * A service registry: the Topology view then lists, for each service, the
   * instances registered under the RPC services it handles (looked up at
   * most every 5 s). The dashboard does not close it.
   */
  readonly registry?: ServiceRegistry;
  /**
   * The API explorer's target: its services are listed by gRPC server
   * reflection and can be called from the page (`host:port` for gRPC over
   * h2c, or a Ferry URL). `timeoutMs`: deadline of every reflection request
   * and call, default 10 000. Without it the explorer answers 501.
   */
  readonly explorer?: { readonly target: string; readonly timeoutMs?: number };
  /**
   * Message types (a protobuf-es `Registry`, e.g. `createRegistry(file_shop_v1_events)`)
   * the dead letters' payloads are decoded with, by their `ferry-type`
   * header, for the JSON preview. Without it a payload is shown as JSON when
   * it is JSON text, else as base64.
   */
  readonly messageTypes?: Registry;
}

/** Options of {@link startDashboard}; every limit has a safe default. */
export interface DashboardOptions extends DashboardLimits, LiveFeedOptions, DashboardConnections {
  /** TCP port; 0 picks a free one. Default 9400. */
  readonly port?: number;
  /**
   * Address to bind. Default `127.0.0.1`. Any non-loopback address
   * (`0.0.0.0`, a LAN address) requires {@link token}.
   */
  readonly host?: string;
  /**
   * Required of every request when set (at least 16 characters), as
   * `Authorization: Bearer T`, `?token=T` or the cookie the latter sets.
   * Mandatory when {@link host} is not a loopback address.
   */
  readonly token?: string;
  /** Largest OTLP request body, raw or inflated, in bytes; larger ones get 413. Default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Resolves the `uplot` and `cytoscape` files (default `createRequire(import.meta.url).resolve`); for tests. */
  readonly resolvePeer?: ResolveFile;
}

/** A running dashboard. */
export interface Dashboard {
  /** The page's address, e.g. `http://127.0.0.1:9400/` (with `?token=` when a token is set). */
  readonly url: string;
  /** The bound port (the free one picked for port 0). */
  readonly port: number;
  readonly host: string;
  /** The data: add spans directly with `sink.addSpans()`; read the stores. */
  readonly sink: TelemetrySink;
  /** The in-process feed: an OpenTelemetry SpanProcessor to register on this process's tracer provider. */
  readonly spanProcessor: DashboardSpanProcessor;
  /**
   * The in-process metrics feed: a `PeriodicExportingMetricReader` of
   * `@opentelemetry/sdk-metrics` storing this process's metrics in the
   * dashboard every `intervalMs` (default 5 000), for the meter provider
   * (`startObservability({ metricReaders: [await dashboard.metricReader()] })`).
   *
   * @throws FerryError FAILED_PRECONDITION without `@opentelemetry/sdk-metrics`;
   *   INVALID_ARGUMENT for an interval that is not a positive number.
   */
  metricReader(intervalMs?: number): Promise<MetricReader>;
  /**
   * Links the dashboard to a broker, registry, explorer target or message
   * types after it started (e.g. once the services it watches are up);
   * what is given replaces what was there. Rejects like {@link startDashboard}
   * when the explorer cannot be opened.
   */
  attach(connections: DashboardConnections): Promise<void>;
  /** Stops accepting requests, ends live streams and open connections. */
  close(): Promise<void>;
}

/**
 * Starts the dashboard.
 *
 * @throws FerryError INVALID_ARGUMENT when bound to a non-loopback address
 *   without a token, or with a token shorter than 16 characters.
 * @throws FerryError FAILED_PRECONDITION when the optional peer `uplot` or
 *   `cytoscape` is not installed (the message names it).
 * @throws FerryError UNAVAILABLE when the port cannot be bound (in use, no permission).
 */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  const token = options.token === "" ? undefined : options.token;
  checkToken(host, token);
  const assets = new StaticAssets(options.resolvePeer);
  const sink = new TelemetrySink(options);
  const feed = new LiveFeed(sink, options);
  const connections: Connections = { messaging: undefined, registry: undefined, explorer: undefined };
  let messageTypes: Registry | undefined;
  const attach = async (c: DashboardConnections): Promise<void> => {
    if (c.explorer !== undefined) {
      const explorer = await ApiExplorer.open(c.explorer.target, c.explorer.timeoutMs);
      await connections.explorer?.close();
      connections.explorer = explorer;
    }
    if (c.registry !== undefined) connections.registry = new RegistryView(c.registry);
    messageTypes = c.messageTypes ?? messageTypes;
    const broker = c.broker ?? connections.messaging?.broker;
    if (broker !== undefined) connections.messaging = { broker, tools: new MessagingTools(broker, messageTypes) };
  };
  await attach(options);
  const route = createRouter({
    access: new AccessControl({ loopbackOnly: isLoopbackHost(host) && token === undefined, token }),
    sink,
    feed,
    assets,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    connections,
  });
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => sendError(res, err));
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  const port = await listen(server, host, options.port ?? DEFAULT_DASHBOARD_PORT).catch(async (err: unknown) => {
    await connections.explorer?.close();
    throw err;
  });
  const spanProcessor = createDashboardSpanProcessor(sink);
  return {
    url: pageUrl(host, port, token),
    port,
    host,
    sink,
    spanProcessor,
    metricReader: (intervalMs = DEFAULT_METRIC_FEED_INTERVAL_MS) => createDashboardMetricReader(sink, intervalMs),
    attach,
    close: async () => {
      await spanProcessor.shutdown();
      feed.close();
      await connections.explorer?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The page's address: a wildcard bind is shown as 127.0.0.1, IPv6 in brackets, the token in the query. */
function pageUrl(host: string, port: number, token: string | undefined): string {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${port}/${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`;
}

function checkToken(host: string, token: string | undefined): void {
  if (token === undefined) {
    if (!isLoopbackHost(host)) {
      throw new FerryError(Code.INVALID_ARGUMENT, `the dashboard bound to ${host} (not loopback) requires a token: pass token (e.g. the output of openssl rand -hex 16)`);
    }
    return;
  }
  if (token.length < MIN_TOKEN_LENGTH) throw new FerryError(Code.INVALID_ARGUMENT, `the dashboard token must have at least ${MIN_TOKEN_LENGTH} characters`);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new FerryError(Code.UNAVAILABLE, `the dashboard cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
