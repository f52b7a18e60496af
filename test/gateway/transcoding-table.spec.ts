/**
 * HTTP transcoding per google.api.http (googleapis google/api/http.proto):
 * the documentation's examples as a table — each HTTP request and the call
 * it must become — plus sub-paths, `**`, nested field paths, response_body,
 * the well-known types' JSON forms, errors as google.rpc.Status JSON, and
 * server streaming as NDJSON and server-sent events.
 */
import { create, toJson, type DescService, type JsonValue, type Message } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, createInProcessTransport, createServer, FerryError, type CallContext, type Server } from "../../src/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/gateway/index.js";
import { Library, MessagingBindings, MessagingBodyField, MessagingBodyStar, MessagingNames, MessagingQuery } from "../gen/ferry/test/v1/web_pb.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
/** The last call each service received: method name and request in protobuf JSON (.proto field names). */
let lastCall: { method: string; request: JsonValue } | undefined;

function recordingImpl(service: DescService): Record<string, unknown> {
  const impl: Record<string, unknown> = {};
  for (const m of service.methods) {
    const record = (req: Message, ctx: CallContext) => {
      lastCall = { method: m.name, request: toJson(m.input, req, { useProtoFieldName: true }) };
      if ((req as { name?: string }).name === "fail") {
        throw new FerryError(Code.FAILED_PRECONDITION, "shelf is locked", { details: [anyPack(DurationSchema, create(DurationSchema, { seconds: 7n }))] });
      }
      void ctx;
    };
    impl[m.localName] =
      m.methodKind === "server_streaming"
        ? async function* (req: Message, ctx: CallContext) {
            record(req, ctx);
            for (let i = 0; i < 3; i++) yield { name: `b${i}`, title: `Book ${i}` };
            if ((req as { pageSize?: number }).pageSize === 99) throw new FerryError(Code.UNAVAILABLE, "watch interrupted");
          }
        : (req: Message, ctx: CallContext) => {
            record(req, ctx);
            return m.output.typeName === "ferry.test.v1.Book"
              ? { name: "shelves/s1/books/b1", title: "", createTime: { seconds: 1767225600n }, loanPeriod: { seconds: 3600n }, updateMask: { paths: ["title", "create_time"] }, rating: 4 }
              : {};
          };
  }
  return impl;
}

const services = [MessagingNames, MessagingQuery, MessagingBodyField, MessagingBodyStar, MessagingBindings, Library];
let server: Server;
const gateways = new Map<DescService, string>();
const started: Gateway[] = [];

async function startGateway(service: DescService, options: Partial<GatewayOptions> = {}): Promise<string> {
  const g = createGateway({ services: [service], transport: createInProcessTransport(server), logger: quiet, ...options });
  started.push(g);
  return g.listen(0);
}

beforeAll(async () => {
  server = createServer({ logger: quiet });
  for (const s of services) server.service(s, recordingImpl(s) as never);
  for (const s of services) gateways.set(s, await startGateway(s));
});
afterAll(async () => {
  await Promise.all(started.map((g) => g.close()));
  await server.shutdown(100);
});

interface Row {
  readonly name: string;
  readonly service: DescService;
  readonly verb: string;
  readonly path: string;
  readonly body?: unknown;
  readonly call: { method: string; request: JsonValue };
}

const table: Row[] = [
  // google/api/http.proto, "HTTP Mapping": a variable with a sub-path.
  { name: "GET /v1/{name=messages/*}", service: MessagingNames, verb: "GET", path: "/v1/messages/123456", call: { method: "GetMessage", request: { name: "messages/123456" } } },
  // Query parameters fill the fields bound by neither path nor body, nested ones by dotted path.
  {
    name: "path variable + query parameters (nested, int64)",
    service: MessagingQuery,
    verb: "GET",
    path: "/v1/messages/123456?revision=2&sub.subfield=foo",
    call: { method: "GetMessage", request: { message_id: "123456", revision: "2", sub: { subfield: "foo" } } },
  },
  { name: "repeated query parameter", service: MessagingQuery, verb: "GET", path: "/v1/messages/1?tags=a&tags=b", call: { method: "GetMessage", request: { message_id: "1", tags: ["a", "b"] } } },
  // body: "message" — one field from the body.
  { name: 'body: "message"', service: MessagingBodyField, verb: "PATCH", path: "/v1/messages/123456", body: { text: "Hi!" }, call: { method: "UpdateMessage", request: { message_id: "123456", message: { text: "Hi!" } } } },
  // body: "*" — the whole request from the body, path variables beside it.
  { name: 'body: "*"', service: MessagingBodyStar, verb: "PATCH", path: "/v1/messages/123456", body: { text: "Hi!" }, call: { method: "UpdateMessage", request: { message_id: "123456", text: "Hi!" } } },
  // additional_bindings: both paths reach the method.
  { name: "first binding", service: MessagingBindings, verb: "GET", path: "/v1/messages/123456", call: { method: "GetMessage", request: { message_id: "123456" } } },
  { name: "additional binding", service: MessagingBindings, verb: "GET", path: "/v1/users/me/messages/123456", call: { method: "GetMessage", request: { user_id: "me", message_id: "123456" } } },
  { name: "{name=shelves/*/books/*}", service: Library, verb: "GET", path: "/v1/shelves/s1/books/b1", call: { method: "GetBook", request: { name: "shelves/s1/books/b1" } } },
  { name: "{name=**}", service: Library, verb: "GET", path: "/v1/files/a/b%20c/d", call: { method: "GetAnything", request: { name: "a/b c/d" } } },
  {
    name: 'body: "book" with the well-known types in JSON',
    service: Library,
    verb: "POST",
    path: "/v1/shelves/s1/books",
    body: { title: "T", createTime: "2026-01-01T00:00:00Z", loanPeriod: "3600s", updateMask: "title,createTime", attributes: { k: [1, "x"] }, rating: 5 },
    call: {
      method: "CreateBook",
      request: { parent: "shelves/s1", book: { title: "T", create_time: "2026-01-01T00:00:00Z", loan_period: "3600s", update_mask: "title,createTime", attributes: { k: [1, "x"] }, rating: 5 } },
    },
  },
  {
    name: "nested field path {shelf.shelf_id} with body: \"*\" and a verb",
    service: Library,
    verb: "POST",
    path: "/v1/shelves/s9/books/b1:move",
    body: { title: "T", shelf: { theme: "sci-fi" } },
    call: { method: "MoveBook", request: { name: "b1", title: "T", shelf: { shelf_id: "s9", theme: "sci-fi" } } },
  },
  {
    name: "nested, repeated and well-known-type query parameters",
    service: Library,
    verb: "GET",
    path: "/v1/books?pageSize=2&filter.title=x&filter.create_time=2026-01-01T00:00:00Z&filter.rating=3&ids=1&ids=2",
    call: { method: "ListBooks", request: { filter: { title: "x", create_time: "2026-01-01T00:00:00Z", rating: 3 }, page_size: 2, ids: ["1", "2"] } },
  },
];

describe("the google.api.http examples, as a table", () => {
  for (const row of table) {
    it(`${row.name}: ${row.verb} ${row.path}`, async () => {
      lastCall = undefined;
      const res = await fetch(`${gateways.get(row.service)}${row.path}`, {
        method: row.verb,
        headers: row.body === undefined ? {} : { "content-type": "application/json" },
        body: row.body === undefined ? undefined : JSON.stringify(row.body),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(lastCall).toEqual(row.call);
    });
  }
});

describe("responses", () => {
  it("answers with the well-known types in their JSON forms", async () => {
    const res = await fetch(`${gateways.get(Library)}/v1/shelves/s1/books/b1`);
    expect(await res.json()).toEqual({ name: "shelves/s1/books/b1", createTime: "2026-01-01T00:00:00Z", loanPeriod: "3600s", updateMask: "title,createTime", rating: 4 });
  });

  it("response_body sends one field, its default value included", async () => {
    const res = await fetch(`${gateways.get(Library)}/v1/shelves/s1/books/b1:title`);
    expect(await res.json()).toBe("");
  });

  it("server streaming as NDJSON, with a failure as a last error line", async () => {
    const res = await fetch(`${gateways.get(Library)}/v1/books:watch?pageSize=99`);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([{ result: { name: "b0", title: "Book 0" } }, { result: { name: "b1", title: "Book 1" } }, { result: { name: "b2", title: "Book 2" } }, { error: { code: "unavailable", message: "watch interrupted" } }]);
  });

  it("server streaming as server-sent events with Accept: text/event-stream", async () => {
    const res = await fetch(`${gateways.get(Library)}/v1/books:watch`, { headers: { accept: "text/event-stream" } });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = (await res.text()).trim().split("\n\n");
    expect(events).toEqual(['data: {"name":"b0","title":"Book 0"}', 'data: {"name":"b1","title":"Book 1"}', 'data: {"name":"b2","title":"Book 2"}', "event: end\ndata: {}"]);
  });
});

describe("errors", () => {
  it("as google.rpc.Status JSON with details, when asked", async () => {
    const url = await startGateway(Library, { errorFormat: "google.rpc.Status" });
    const res = await fetch(`${url}/v1/files/fail`);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ code: 9, message: "shelf is locked", details: [{ "@type": "type.googleapis.com/google.protobuf.Duration", value: "7s" }] });
  });

  it("by default in Connect's form, details with their JSON as debug", async () => {
    const res = await fetch(`${gateways.get(Library)}/v1/files/fail`);
    expect(await res.json()).toEqual({ code: "failed_precondition", message: "shelf is locked", details: [{ type: "google.protobuf.Duration", value: "CAc", debug: "7s" }] });
  });

  it("a query parameter naming a message field, a bad bool or an unknown field is 400", async () => {
    for (const query of ["filter=x", "filter.nope=1", "sub.subfield=1"]) {
      const res = await fetch(`${gateways.get(Library)}/v1/books?${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_argument" });
    }
  });});
