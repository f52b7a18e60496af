/**
 * createOpenApiDocument on the google.api.http examples (sub-paths, `**`,
 * nested fields, response_body, the well-known types, server streaming):
 * valid OpenAPI 3.1 per @readme/openapi-parser; and the gateway's
 * /openapi.json and /docs (Swagger UI from swagger-ui-dist).
 */
import { Parser } from "@asyncapi/parser";
import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInProcessTransport, createServer, type Server } from "../../src/index.js";
import { createAsyncApiDocument, createGateway, createOpenApiDocument, type Gateway } from "../../src/gateway/index.js";
import { cartItemAdded, orderPlaced, paymentFailed } from "../../examples/shop/events.js";
import { Library, MessagingNames } from "../gen/ferry/test/v1/web_pb.js";

type Doc = { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, { properties: Record<string, unknown> }> } };

describe("createOpenApiDocument", () => {
  const doc = createOpenApiDocument([Library, MessagingNames], { title: "Library", version: "2.0.0", servers: ["https://api.example.com"], bearerAuth: true }) as unknown as Doc;

  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
  });

  it("maps templates, parameters, bodies and the well-known types", () => {
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/{name}", "/v1/{name}:title", "/v1/files/{name}", "/v1/{parent}/books", "/v1/shelves/{shelf.shelf_id}/books/{name}:move", "/v1/books", "/v1/books:watch"]));
    const list = doc.paths["/v1/books"].get as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["page_size", "ids", "filter.title", "filter.create_time", "filter.shelf.theme"]));
    expect((doc.paths["/v1/{parent}/books"].post as { requestBody: unknown }).requestBody).toEqual({ required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/ferry.test.v1.Book" } } } });
    const book = doc.components.schemas["ferry.test.v1.Book"].properties;
    expect(book).toMatchObject({ createTime: { type: "string", format: "date-time" }, loanPeriod: { type: "string" }, attributes: { type: "object" }, rating: { type: ["integer", "null"] } });
    expect(JSON.stringify(doc.paths["/v1/{name}:title"].get)).toContain('"schema":{"type":"string"}');
    expect(Object.keys((doc.paths["/v1/books:watch"].get as { responses: { "200": { content: object } } }).responses["200"].content)).toEqual(["application/x-ndjson", "text/event-stream"]);
  });
});

describe("the gateway's /openapi.json and /docs", () => {
  let server: Server;
  let gateway: Gateway;
  let url: string;
  beforeAll(async () => {
    server = createServer({ logger: { error() {}, warn() {}, info() {}, debug() {} } }).service(MessagingNames, { getMessage: (req) => ({ name: req.name }) });
    gateway = createGateway({ services: [MessagingNames], transport: createInProcessTransport(server), openapi: { title: "Messages" } });
    url = await gateway.listen(0);
  });
  afterAll(async () => {
    await gateway.close();
    await server.shutdown(100);
  });

  it("serves the document and a Swagger UI page with its assets", async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { info: { title: string } };
    expect(doc.info.title).toBe("Messages");
    const page = await fetch(`${url}/docs`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("/docs/swagger-ui-bundle.js");
    const js = await fetch(`${url}/docs/swagger-ui-bundle.js`);
    expect(js.status).toBe(200);
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await fetch(`${url}/docs/swagger-ui.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
  });
});

describe("createAsyncApiDocument", () => {
  it("is valid AsyncAPI 3.0 (@asyncapi/parser): a channel per topic and dead-letter topic, send and receive operations", async () => {
    const doc = createAsyncApiDocument([cartItemAdded, orderPlaced, paymentFailed], { title: "Shop events", servers: { local: "nats://127.0.0.1:4222" } }) as {
      channels: Record<string, { address: string }>;
      operations: Record<string, { action: string }>;
      components: { messages: Record<string, { payload: unknown }> };
    };
    const { diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.message} at ${d.path.join(".")}`)).toEqual([]);
    expect(Object.values(doc.channels).map((c) => c.address)).toEqual(expect.arrayContaining(["shop.order.placed", "dead-letter.shop.order.placed"]));
    expect(doc.operations.send_shop_order_placed.action).toBe("send");
    expect(doc.components.messages["shop.v1.OrderPlaced"].payload).toEqual({ $ref: "#/components/schemas/shop.v1.OrderPlaced" });
  });
});
