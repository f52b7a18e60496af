/**
 * `ferry openapi` against a server with reflection: the OpenAPI 3.1 document
 * of its HTTP routes, from the descriptors reflection serves (google.api.http
 * options included), valid per @readme/openapi-parser.
 */
import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addReflectionService, createServer, type Server } from "../../src/index.js";
import { Library } from "../gen/ferry/test/v1/web_pb.js";
import { runFerry } from "./run-ferry.js";

let server: Server;
let target: string;
beforeAll(async () => {
  server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(Library, {});
  addReflectionService(server);
  target = (await server.listen("grpc://127.0.0.1:0")).url;
});
afterAll(() => server.shutdown(100));

it("writes a valid OpenAPI 3.1 document of the routes, from server reflection", async () => {
  const run = await runFerry(["openapi", target, "ferry.test.v1.Library", "--title", "Library", "--server", "https://api.example.com"]);
  expect(run.code, run.stderr).toBe(0);
  const doc = JSON.parse(run.stdout) as { info: { title: string }; servers: unknown[]; paths: Record<string, unknown> };
  expect(doc.info.title).toBe("Library");
  expect(doc.servers).toEqual([{ url: "https://api.example.com" }]);
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/{name}", "/v1/books:watch", "/v1/shelves/{shelf.shelf_id}/books/{name}:move"]));
  const result = await validate(doc as never);
  expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
});

it("an unknown service is NOT_FOUND (exit 5)", async () => {
  const run = await runFerry(["openapi", target, "no.such.Service"]);
  expect(run.code).toBe(5);
});
