/**
 * Routes one request of the dashboard's HTTP server, after the access
 * check: the OTLP receiver, the broker actions (dead letters, re-drive,
 * replay) and the explorer,
 * the live events, the JSON API, then the page's files. Anything it throws
 * is answered by `sendError` (an HttpError with its status, else 500).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessControl } from "./access-control.js";
import type { ApiExplorer } from "./api-explorer.js";
import { answerApi } from "./api-routes.js";
import { EXPLORER_CALL_PATH, EXPLORER_PATH, explorerRoute } from "./explorer-routes.js";
import { HttpError } from "./http-replies.js";
import type { LiveFeed } from "./live-feed.js";
import { OTLP_METRICS_PATH, OTLP_TRACES_PATH, receiveOtlp } from "./otlp-receiver.js";
import { MESSAGING_ACTION_PATHS, messagingAction, type MessagingBroker } from "./messaging-actions.js";
import type { RegistryView } from "./registry-view.js";
import type { StaticAssets } from "./static-assets.js";
import type { TelemetrySink } from "./telemetry-sink.js";

/** The dashboard's links to the running system; set at start or later (`Dashboard.attach`). */
export interface Connections {
  messaging: MessagingBroker | undefined;
  registry: RegistryView | undefined;
  explorer: ApiExplorer | undefined;
}

/** What the router serves from. */
export interface RouterParts {
  readonly access: AccessControl;
  readonly sink: TelemetrySink;
  readonly feed: LiveFeed;
  readonly assets: StaticAssets;
  /** Largest OTLP body, in bytes. */
  readonly maxBodyBytes: number;
  readonly connections: Connections;
}

/** A request handler over `parts`. */
export function createRouter(parts: RouterParts): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = requestUrl(req.url);
    parts.access.check(req, url, res);
    const path = url.pathname;
    if (path === OTLP_TRACES_PATH || path === OTLP_METRICS_PATH) return receiveOtlp(req, res, path, parts.sink, parts.maxBodyBytes);
    const c = parts.connections;
    if (MESSAGING_ACTION_PATHS.includes(path)) return messagingAction(req, res, url, c.messaging);
    if (path === EXPLORER_PATH || path === EXPLORER_CALL_PATH) return explorerRoute(req, res, path, c.explorer);
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${path} accepts GET only`, { allow: "GET, HEAD" });
    if (path === "/api/events") return parts.feed.open(req, res);
    if (path.startsWith("/api/")) return answerApi(res, url, parts.sink, c);
    parts.assets.serve(res, path, req.method === "HEAD");
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
