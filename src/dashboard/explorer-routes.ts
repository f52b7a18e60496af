/**
 * The API explorer's HTTP routes:
 *
 * | route | answer |
 * |---|---|
 * | `GET /api/explorer` | `{ target, services: ExplorerService[] }`; 502 when reflection fails |
 * | `POST /api/explorer/call` | body `{ service, method, request, metadata? }` → {@link ExplorerCallResult} |
 *
 * Both answer 501 when the dashboard was started without `explorer`. The
 * call is a write action: same origin and JSON only (see action-guard.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { FerryError } from "../rpc/ferry-error.js";
import { readActionBody } from "./action-guard.js";
import type { ApiExplorer } from "./api-explorer.js";
import { HttpError, sendJson } from "./http-replies.js";

/** The explorer's paths. */
export const EXPLORER_PATH = "/api/explorer";
export const EXPLORER_CALL_PATH = "/api/explorer/call";

const MAX_BODY_BYTES = 1024 * 1024;

/** Handles the explorer's routes; throws {@link HttpError} for the failures above. */
export async function explorerRoute(req: IncomingMessage, res: ServerResponse, path: string, explorer: ApiExplorer | undefined): Promise<void> {
  if (explorer === undefined) throw new HttpError(501, "this dashboard has no API explorer: start it with startDashboard({ explorer: { target } }) or ferry dashboard --explore TARGET");
  if (path === EXPLORER_PATH) {
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${path} accepts GET only`, { allow: "GET, HEAD" });
    try {
      return sendJson(res, { target: explorer.target, services: await explorer.services() });
    } catch (err) {
      throw new HttpError(502, `cannot list the services of ${explorer.target}: ${FerryError.from(err).rawMessage}`);
    }
  }
  const body = await readActionBody(req, path, MAX_BODY_BYTES);
  if (typeof body.service !== "string" || typeof body.method !== "string") throw new HttpError(400, "service and method must be strings (pkg.Service, Method)");
  const metadata = body.metadata ?? {};
  if (typeof metadata !== "object" || metadata === null || Object.values(metadata).some((v) => typeof v !== "string")) {
    throw new HttpError(400, "metadata must be an object of strings");
  }
  sendJson(res, await explorer.call(body.service, body.method, body.request ?? {}, metadata as Record<string, string>));
}
