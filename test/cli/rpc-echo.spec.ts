/**
 * `ferry call` with every method kind, metadata, deadlines and usage errors,
 * against a Ferry server with the test EchoService (test/proto) and server
 * reflection; and the same calls from `.proto` files (`--proto`) without
 * reflection. The CLI runs in a child process.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { Code, createServer, FerryError, type Server } from "../../src/index.js";
import { EchoResponseSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { addReflectionService } from "../../src/transport/grpc/index.js";
import { EchoService, echoImpl } from "../support/echo-service.js";
import { jsonLines, runFerry } from "./run-ferry.js";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ECHO = "ferry.test.v1.EchoService";

describe("ferry call, every method kind", { timeout: 60_000 }, () => {
  let server: Server;
  let target: string;
  let echoCalls = 0;

  beforeAll(async () => {
    server = createServer({ logger: quiet }).service(EchoService, {
      ...echoImpl,
      echo: (req, ctx) => {
        echoCalls++;
        if (req.text === "with-details") {
          const details = [anyPack(EchoResponseSchema, create(EchoResponseSchema, { text: "why", index: 7 })), { $typeName: "google.protobuf.Any", typeUrl: "type.googleapis.com/x.Unknown", value: new Uint8Array([1, 2]) } as Any];
          throw new FerryError(Code.FAILED_PRECONDITION, "see details", { details });
        }
        return echoImpl.echo!(req, ctx);
      },
    });
    addReflectionService(server);
    target = new URL((await server.listen("grpc://127.0.0.1:0")).url).host;
  });
  afterAll(() => server.shutdown(100));

  it("server streaming prints one JSON object a line", async () => {
    const run = await runFerry(["call", target, `${ECHO}/ServerStream`, "-d", '{"text":"hi","count":3}']);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([{ text: "hi" }, { text: "hi", index: 1 }, { text: "hi", index: 2 }]);
  });

  it("a server stream that fails after two messages prints them, then the error, and exits with its code", async () => {
    const run = await runFerry(["call", target, `${ECHO}/ServerStream`, "-d", '{"text":"late","count":2,"failCode":8}']);
    expect(run.code).toBe(8);
    expect(jsonLines(run.stdout)).toHaveLength(2);
    expect(run.stderr.trim()).toBe("ERROR: RESOURCE_EXHAUSTED: late");
  });

  it("client streaming reads JSON lines from stdin", async () => {
    const run = await runFerry(["call", target, `${ECHO}/ClientStream`], { stdin: '{"text":"a"}\n{"text":"b"}\n{"text":"c"}\n' });
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([{ text: "abc", index: 3 }]);
  });

  it("bidi streaming reads stdin (pretty-printed objects too) and prints each response", async () => {
    const run = await runFerry(["call", target, `${ECHO}/Bidi`], { stdin: '{"text":"x"}\n{\n  "text": "y"\n}\n' });
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([{ text: "x" }, { text: "y", index: 1 }]);
  });

  it("a bidi call the server ends early exits at once, without waiting for the end of stdin", async () => {
    const run = await runFerry(["call", target, `${ECHO}/Bidi`], { stdin: '{"text":"stop","failCode":9}\n', holdStdin: true, killAfterMs: 30_000 });
    expect(run.code).toBe(9);
    expect(run.stderr.trim()).toBe("ERROR: FAILED_PRECONDITION: stop");
  });

  it("-d with several objects feeds a client stream", async () => {
    const run = await runFerry(["call", target, `${ECHO}/ClientStream`, "-d", '{"text":"1"} {"text":"2"}']);
    expect(jsonLines(run.stdout)).toEqual([{ text: "12", index: 2 }]);
  });

  it("-d - reads a unary request from stdin", async () => {
    const run = await runFerry(["call", target, `${ECHO}.Echo`, "-d", "-"], { stdin: '{"text":"from stdin"}' });
    expect(jsonLines(run.stdout)).toEqual([{ text: "from stdin" }]);
  });

  it("-H metadata reaches the handler (it echoes x-* keys back as headers and trailers, shown by -v)", async () => {
    const run = await runFerry(["call", target, `${ECHO}/Echo`, "-d", '{"text":"md"}', "-H", "x-trace: abc123", "-H", "X-Tenant:  blue", "-v"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("Response headers:\n  x-trace: abc123\n  x-tenant: blue\n");
    expect(run.stderr).toContain("Response trailers:\n  x-trace: abc123\n  x-tenant: blue\n");
    expect(jsonLines(run.stdout)).toEqual([{ text: "md" }]);
  });

  it("error details print decoded with the server's descriptors, else as type URL and base64", async () => {
    const run = await runFerry(["call", target, `${ECHO}/Echo`, "-d", '{"text":"with-details"}']);
    expect(run.code).toBe(9);
    expect(run.stderr.trim().split("\n")).toEqual([
      "ERROR: FAILED_PRECONDITION: see details",
      '  detail: ferry.test.v1.EchoResponse {"text":"why","index":7}',
      "  detail: type.googleapis.com/x.Unknown AQI=",
    ]);
  });

  it("--timeout ends a slow call with DEADLINE_EXCEEDED, exit status 4", async () => {
    const run = await runFerry(["call", target, `${ECHO}/Echo`, "-d", '{"delayMs":5000}', "--timeout", "200ms"]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^ERROR: DEADLINE_EXCEEDED: /);
  });

  it("an unreachable server exits 14 UNAVAILABLE", async () => {
    const run = await runFerry(["call", "127.0.0.1:1", `${ECHO}/Echo`, "--proto", "test/proto/ferry/test/v1/echo.proto"]);
    expect(run.code).toBe(14);
    expect(run.stderr).toMatch(/^ERROR: UNAVAILABLE: /);
  });

  it("bench --json runs a client-streaming method", async () => {
    const run = await runFerry(["bench", target, `${ECHO}/ClientStream`, "-d", '{"text":"a"}{"text":"b"}', "-n", "30", "-c", "3", "--json"]);
    expect(run.code).toBe(0);
    const [report] = jsonLines(run.stdout) as { totalCalls: number; statusCodes: Record<string, number> }[];
    expect(report.totalCalls).toBe(30);
    expect(report.statusCodes).toEqual({ OK: 30 });
  });

  it("Ctrl-C stops bench: calls in flight are cancelled, the report covers what ran, exit status 130", async () => {
    const before = echoCalls;
    let child: ChildProcess | undefined;
    const running = runFerry(["bench", target, `${ECHO}/Echo`, "-d", '{"delayMs":20}', "-z", "60s", "-c", "2", "--json"], { onSpawn: (c) => (child = c) });
    for (let waitedMs = 0; echoCalls < before + 5 && waitedMs < 30_000; waitedMs += 50) await new Promise((r) => setTimeout(r, 50));
    child!.kill("SIGINT");
    const run = await running;
    expect(run.code).toBe(130);
    const [report] = jsonLines(run.stdout) as { totalCalls: number; statusCodes: Record<string, number> }[];
    expect(report.totalCalls).toBeGreaterThanOrEqual(3);
    expect(Object.values(report.statusCodes).reduce((a, b) => a + b, 0)).toBe(report.totalCalls);
    expect(Object.keys(report.statusCodes).every((code) => code === "OK" || code === "CANCELLED")).toBe(true);
  });

  describe("without reflection, from .proto files (--proto)", () => {
    it("lists, describes and calls from the compiled files", async () => {
      const proto = ["--proto", "ferry/test/v1/echo.proto", "--import-path", "test/proto"];
      const list = await runFerry(["list", target, ...proto]);
      expect([list.code, list.stdout]).toEqual([0, `${ECHO}\n`]);
      const described = await runFerry(["describe", target, "ferry.test.v1.EchoRequest", ...proto]);
      expect(described.stdout).toContain("message EchoRequest {\n  string text = 1;\n  bytes payload = 2;\n  int32 count = 3;");
      const call = await runFerry(["call", target, `${ECHO}/ServerStream`, "-d", '{"text":"p","count":2}', ...proto]);
      expect(jsonLines(call.stdout)).toEqual([{ text: "p" }, { text: "p", index: 1 }]);
    });

    it("a server without reflection: list says so (12 UNIMPLEMENTED); --proto calls it", async () => {
      const bare = createServer({ logger: quiet }).service(EchoService, echoImpl);
      try {
        const bareTarget = new URL((await bare.listen("grpc://127.0.0.1:0")).url).host;
        const list = await runFerry(["list", bareTarget]);
        expect(list.code).toBe(12);
        expect(list.stderr.trim()).toBe("ERROR: UNIMPLEMENTED: the server does not serve gRPC reflection (v1 or v1alpha): give its .proto files with --proto FILE [--import-path DIR]");
        const call = await runFerry(["call", bareTarget, `${ECHO}/Echo`, "-d", '{"text":"bare"}', "--proto", "test/proto/ferry/test/v1/echo.proto"]);
        expect(jsonLines(call.stdout)).toEqual([{ text: "bare" }]);
      } finally {
        await bare.shutdown(100);
      }
    });

    it("a file that does not compile is a usage error with buf's message", async () => {
      const run = await runFerry(["list", target, "--proto", "test/cli/run-ferry.ts"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^ferry: --proto: buf could not compile the files:/);
    });

    it("a missing import asks for --import-path", async () => {
      const run = await runFerry(["list", target, "--proto", "examples/shop/proto/shop/v1/inventory.proto"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--import-path");
    });
  });

  describe("usage errors: one line on stderr, exit status 2", () => {
    const cases: [string, string[], RegExp][] = [
      ["unknown flag", ["call", "127.0.0.1:1", `${ECHO}/Echo`, "--bogus"], /unknown option '--bogus'/],
      ["missing argument", ["call", "127.0.0.1:1"], /missing required argument 'method'/],
      ["bad URL", ["list", "ftp://x"], /bad target "ftp:\/\/x"/],
      ["bad duration", ["call", "127.0.0.1:1", `${ECHO}/Echo`, "--timeout", "soon"], /--timeout: bad duration "soon"/],
      ["bad method", ["call", "127.0.0.1:1", "Echo"], /bad method "Echo"/],
      ["bad header", ["call", "127.0.0.1:1", `${ECHO}/Echo`, "-H", "novalue"], /-H "novalue": expected 'key: value'/],
      ["bad JSON", ["call", "127.0.0.1:1", `${ECHO}/Echo`, "-d", "{nope", "--proto", "test/proto/ferry/test/v1/echo.proto"], /-d: invalid JSON/],
      ["bad bench bound", ["bench", "127.0.0.1:1", `${ECHO}/Echo`, "-c", "0"], /-c: expected a whole number from 1 to 1000/],
      ["unknown command", ["frobnicate"], /unknown command 'frobnicate'/],
      ["inproc target", ["list", "inproc://shop"], /inproc:\/\/ servers live inside one process/],
    ];
    it.each(cases)("%s", async (_name, args, message) => {
      const run = await runFerry(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    });

    it("a request field the message does not have", async () => {
      const run = await runFerry(["call", target, `${ECHO}/Echo`, "-d", '{"txt":"typo"}']);
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toMatch(/^ferry: request 1: does not fit ferry.test.v1.EchoRequest: .*"txt"/);
    });
  });

  it("every command has --help with examples", async () => {
    for (const command of ["list", "describe", "call", "health", "bench"]) {
      const run = await runFerry([command, "--help"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: ferry ${command}`);
      expect(run.stdout).toContain(`Examples:\n  $ ferry ${command} `);
    }
  });
});
