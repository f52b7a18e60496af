import type { DescService } from "@bufbuild/protobuf";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { importPeer } from "../util/import-peer.js";
import { createOpenApiDocument, type OpenApiOptions } from "./openapi-document.js";
import { createAsyncApiDocument, type AsyncApiOptions } from "./asyncapi-document.js";
import type { Topic } from "../messaging/topic.js";

/** The viewer's files served under `/docs/`, from the `swagger-ui-dist` package. */
const ASSETS: Readonly<Record<string, string>> = {
  "/docs/swagger-ui.css": "text/css; charset=utf-8",
  "/docs/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API documentation</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true });</script>
</body>
</html>
`;

/**
 * The gateway's API description: `GET /openapi.json` (an OpenAPI 3.1
 * document of its routes, see {@link createOpenApiDocument}) and `GET /docs`,
 * a page rendering it with Swagger UI (the optional peer `swagger-ui-dist`,
 * loaded on the first request for the page; without it `/docs` answers
 * FAILED_PRECONDITION naming the package, and `/openapi.json` still works);
 * with `asyncapi`, `GET /asyncapi.json` (AsyncAPI 3.0 of the topics, see
 * {@link createAsyncApiDocument}).
 */
export class ApiDocs {
  #json: string | undefined;
  #asyncJson: string | undefined;
  #assetDir: Promise<string> | undefined;
  readonly #assets = new Map<string, Buffer>();

  constructor(
    private readonly services: readonly DescService[],
    private readonly options: OpenApiOptions | undefined,
    private readonly asyncapi: (AsyncApiOptions & { readonly topics: readonly Topic[] }) | undefined,
  ) {}

  /** True for the paths this serves. */
  handles(path: string): boolean {
    if (path === "/asyncapi.json") return this.asyncapi !== undefined;
    if (this.options === undefined) return false;
    return path === "/openapi.json" || path === "/docs" || path === "/docs/" || ASSETS[path] !== undefined;
  }

  /** Answers `GET`/`HEAD` of one of its paths. */
  async serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === "/openapi.json") {
      this.#json ??= JSON.stringify(createOpenApiDocument(this.services, this.options), null, 2);
      return send(req, res, "application/json", Buffer.from(this.#json));
    }
    if (path === "/asyncapi.json") {
      this.#asyncJson ??= JSON.stringify(createAsyncApiDocument(this.asyncapi!.topics, this.asyncapi), null, 2);
      return send(req, res, "application/json", Buffer.from(this.#asyncJson));
    }
    if (path === "/docs" || path === "/docs/") return send(req, res, "text/html; charset=utf-8", Buffer.from(PAGE));
    let body = this.#assets.get(path);
    if (body === undefined) {
      this.#assetDir ??= importPeer("swagger-ui-dist", () => import("swagger-ui-dist/absolute-path.js"), "the gateway's /docs page").then((m) => (m.default as () => string)());
      this.#assetDir.catch(() => (this.#assetDir = undefined));
      body = await readFile(join(await this.#assetDir, path.slice("/docs/".length)));
      this.#assets.set(path, body);
    }
    send(req, res, ASSETS[path], body, "public, max-age=86400");
  }
}

function send(req: IncomingMessage, res: ServerResponse, type: string, body: Buffer, cache = "no-cache"): void {
  res.writeHead(200, { "content-type": type, "content-length": body.byteLength, "cache-control": cache, "x-content-type-options": "nosniff" });
  res.end(req.method === "HEAD" ? undefined : body);
}
