/**
 * The page's files: the dashboard's own HTML, CSS and JavaScript from
 * `static/` next to this module (`src/dashboard/static/`, copied by the
 * build to `dist/esm/dashboard/static/`), and the two chart and graph
 * libraries from the application's `node_modules` — `uplot` and
 * `cytoscape`, optional peer dependencies resolved with `createRequire`.
 * Everything is read into memory once at start-up (about 0.6 MiB) and
 * served from an allow-list, so no request path ever reaches the file system.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { missingPeerError } from "../util/import-peer.js";
import { HttpError } from "./http-replies.js";

/** Library files served under `/vendor/`: URL name → package and file. */
export const VENDOR_ASSETS: Readonly<Record<string, { readonly packageName: string; readonly file: string }>> = Object.freeze({
  "uplot.js": { packageName: "uplot", file: "uplot/dist/uPlot.iife.min.js" },
  "uplot.css": { packageName: "uplot", file: "uplot/dist/uPlot.min.css" },
  "cytoscape.js": { packageName: "cytoscape", file: "cytoscape/dist/cytoscape.min.js" },
});

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Content-Security-Policy of every page file: same-origin only; inline styles because cytoscape and uPlot set them. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** A resolver of package files, `require.resolve`-shaped (replaceable in tests). */
export type ResolveFile = (specifier: string) => string;

/** The page's files in memory, by URL path. */
export class StaticAssets {
  readonly #files = new Map<string, { type: string; body: Buffer }>();

  /**
   * Loads the page files and the library files.
   *
   * @param resolve resolves `uplot/…` and `cytoscape/…` (default: `createRequire(import.meta.url).resolve`).
   * @throws FerryError FAILED_PRECONDITION (not retryable) naming the package
   *   when `uplot` or `cytoscape` is not installed:
   *   `the Ferry dashboard needs the package "uplot": npm install uplot`.
   */
  constructor(resolve: ResolveFile = createRequire(import.meta.url).resolve) {
    const dir = fileURLToPath(new URL("./static/", import.meta.url));
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) this.#files.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
    }
    const index = this.#files.get("/index.html");
    if (index !== undefined) this.#files.set("/", index);
    for (const [name, asset] of Object.entries(VENDOR_ASSETS)) {
      this.#files.set(`/vendor/${name}`, { type: TYPES[extname(name)], body: readFileSync(resolvePeerFile(asset.packageName, asset.file, resolve)) });
    }
  }

  /** Serves `path`; throws {@link HttpError} 404 when it is not a page file. */
  serve(res: ServerResponse, path: string, headOnly: boolean): void {
    const file = this.#files.get(path);
    if (file === undefined) throw new HttpError(404, `no page at ${path}`);
    res.writeHead(200, {
      "content-type": file.type,
      "content-length": file.body.length,
      "cache-control": "no-cache",
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    res.end(headOnly ? undefined : file.body);
  }
}

/**
 * The path of `file` in the optional peer `packageName`.
 *
 * @throws FerryError FAILED_PRECONDITION when the package is not installed
 *   (same message shape as `importPeer`); other failures are rethrown.
 */
export function resolvePeerFile(packageName: string, file: string, resolve: ResolveFile): string {
  try {
    return resolve(file);
  } catch (err) {
    throw missingPeerError(err, packageName, "the Ferry dashboard") ?? err;
  }
}
