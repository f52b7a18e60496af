/**
 * `startDashboard()`: the Ferry dashboard's HTTP server (node:http) — the
 * page, its JSON API and live events, and an OTLP/HTTP receiver — in any
 * process, or standalone through `ferry dashboard`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Broker } from "../messaging/broker.js";
import type { ServiceRegistry } from "../registry/service-registry.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { AccessControl, isLoopbackHost } from "./access-control.js";
import { answerApi } from "./api-routes.js";
import { HttpError, sendError } from "./http-replies.js";
import { LiveFeed, type LiveFeedOptions } from "./live-feed.js";
import { OTLP_METRICS_PATH, OTLP_TRACES_PATH, receiveOtlp } from "./otlp-receiver.js";
import { REDRIVE_PATH, redriveAction } from "./redrive-action.js";
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

/** Options of {@link startDashboard}; every limit has a safe default. */
export interface DashboardOptions extends DashboardLimits, LiveFeedOptions {
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
  /**
   * A broker client for the Messaging view's action (re-drive a consumer
   * group's dead letters, `POST /api/messaging/redrive`). Without it the
   * action answers 501. The dashboard does not close it.
   */
  readonly broker?: Broker;
  /**
   * A service registry: the Topology view then lists, for each service, the
   * instances registered under the RPC services it handles (looked up at
   * most every 5 s). The dashboard does not close it.
   */
  readonly registry?: ServiceRegistry;
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
  const access = new AccessControl({ loopbackOnly: isLoopbackHost(host) && token === undefined, token });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const registryView = options.registry === undefined ? undefined : new RegistryView(options.registry);
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url);
    access.check(req, url, res);
    const path = url.pathname;
    if (path === OTLP_TRACES_PATH || path === OTLP_METRICS_PATH) return receiveOtlp(req, res, path, sink, maxBodyBytes);
    if (path === REDRIVE_PATH) return redriveAction(req, res, options.broker);
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${path} accepts GET only`, { allow: "GET, HEAD" });
    if (path === "/api/events") return feed.open(req, res);
    if (path.startsWith("/api/")) return answerApi(res, url, sink, registryView);
    assets.serve(res, path, req.method === "HEAD");
  }
  server.on("clientError", (_err, socket) => socket.destroy());
  const port = await listen(server, host, options.port ?? DEFAULT_DASHBOARD_PORT);
  const spanProcessor = createDashboardSpanProcessor(sink);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost === "0.0.0.0" || shownHost === "[::]" ? "127.0.0.1" : shownHost}:${port}/${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`,
    port,
    host,
    sink,
    spanProcessor,
    close: async () => {
      await spanProcessor.shutdown();
      feed.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The request target as a URL (only its path and query are used); HTTP 400 when it does not parse. */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? "/", "http://dashboard.invalid");
  } catch {
    throw new HttpError(400, "the request target is not a valid URL path");
  }
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
