/**
 * What every write action of the dashboard (`POST /api/...`) checks before
 * it reads its body: the method, the `Origin` (a cross-origin page gets
 * 403), and the JSON media type (which a cross-origin page cannot send
 * without a CORS preflight the dashboard never grants).
 */
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-replies.js";
import { readJsonBody } from "./request-body.js";

/**
 * Checks `req` and returns its JSON body (at most `maxBodyBytes`).
 *
 * @throws HttpError 405 (not POST), 403 (foreign Origin), 415 (not JSON),
 *   413/400 (body too large or not JSON).
 */
export async function readActionBody(req: IncomingMessage, path: string, maxBodyBytes: number): Promise<Record<string, unknown>> {
  if (req.method !== "POST") throw new HttpError(405, `${path} accepts POST only`, { allow: "POST" });
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ""}`) {
    throw new HttpError(403, `cross-origin request from ${origin} refused`);
  }
  if ((req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase() !== "application/json") {
    throw new HttpError(415, `send ${path} requests as application/json`);
  }
  const body = await readJsonBody(req, maxBodyBytes);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "the body must be a JSON object");
  return body as Record<string, unknown>;
}
