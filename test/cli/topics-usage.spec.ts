/**
 * `ferry topics` and `ferry dlq` without a broker: usage errors (one line,
 * exit status 2), payload errors found before connecting, an unreachable
 * broker (UNAVAILABLE, exit 14), help with examples; and the pure helpers
 * (`--from`, `-H`, payload views) in-process.
 */
import { describe, expect, it } from "vitest";
import { toBinary, create } from "@bufbuild/protobuf";
import { describePayload } from "../../src/cli/broker-payload.js";
import { CliUsageError } from "../../src/cli/cli-error.js";
import { parseHeaderFlags } from "../../src/cli/topic-publish.js";
import { parseFrom } from "../../src/cli/topic-tail.js";
import { EchoRequestSchema } from "../gen/ferry/test/v1/echo_pb.js";
import { freePort, runFerry } from "./run-ferry.js";
import { ECHO_PROTO } from "./topics-cli-helpers.js";

const NATS = "nats://127.0.0.1:4222";

describe("ferry topics / dlq usage errors (exit status 2, one line)", () => {
  const cases: [string, string[], RegExp][] = [
    ["a bad broker URL", ["topics", "publish", "notaurl", "a.b", "-d", "x"], /^ferry: bad broker URL "notaurl"/],
    ["an unknown scheme", ["topics", "list", "kafka://127.0.0.1:9092"], /unknown scheme "kafka:"/],
    ["an unknown flag", ["topics", "tail", NATS, "a.b", "--bogus"], /unknown option '--bogus'/],
    ["a bad --from", ["topics", "tail", NATS, "a.b", "--from", "yesterday"], /bad --from "yesterday"/],
    ["-n 0", ["topics", "tail", NATS, "a.b", "-n", "0"], /expected a positive integer/],
    ["a bad topic name", ["topics", "publish", NATS, "a b", "-d", "x"], /topic name "a b" has an invalid token/],
    ["a wildcard publish", ["topics", "publish", NATS, "a.*", "-d", "x"], /invalid token "\*"/],
    ["publish without -d", ["topics", "publish", NATS, "a.b"], /required option '-d, --data/],
    ["a header without colon", ["topics", "publish", NATS, "a.b", "-d", "x", "-H", "nocolon"], /bad header "nocolon"/],
    ["a reserved header", ["topics", "publish", NATS, "a.b", "-d", "x", "-H", "ferry-type: x"], /reserved prefix "ferry-"/],
    ["--type without --proto", ["topics", "publish", NATS, "a.b", "-d", "{}", "--type", "x.Y"], /--type x.Y needs --proto FILE/],
    ["dlq without --group", ["dlq", "list", NATS, "a.b"], /required option '--group <group>'/],
    ["dlq redrive without --id or --all", ["dlq", "redrive", NATS, "a.b", "--group", "g"], /exactly one of --id ID or --all/],
    ["a bad --group", ["dlq", "list", NATS, "a.b", "--group", "no spaces"], /bad --group "no spaces"/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const run = await runFerry(args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim().split("\n")[0]).toMatch(message);
    }, 30_000);
  }

  it("an unknown --type lists the types the --proto file defines", async () => {
    const run = await runFerry(["topics", "publish", NATS, "a.b", "-d", "{}", "--proto", ECHO_PROTO, "--type", "ferry.test.v1.Nope"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no such message in the --proto files \(they define .*ferry\.test\.v1\.EchoRequest/);
  }, 60_000);
});

describe("ferry topics errors before and at the broker", () => {
  it("JSON that does not fit --type is INVALID_ARGUMENT (exit 3), found before connecting", async () => {
    const run = await runFerry(["topics", "publish", NATS, "a.b", "-d", '{"nope":1}', "--proto", ECHO_PROTO, "--type", "ferry.test.v1.EchoRequest"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^ERROR: INVALID_ARGUMENT: invalid ferry\.test\.v1\.EchoRequest JSON/);
  }, 60_000);

  it("an unreachable broker is UNAVAILABLE (exit 14)", async () => {
    const port = await freePort();
    for (const url of [`nats://127.0.0.1:${port}`, `redis://127.0.0.1:${port}`, `amqp://guest:guest@127.0.0.1:${port}`]) {
      const run = await runFerry(["topics", "list", url]);
      expect(run.code, url).toBe(14);
      expect(run.stderr).toMatch(/^ERROR: UNAVAILABLE: /);
    }
  }, 90_000);

  it("every command has --help with examples, and ferry --help lists topics and dlq", async () => {
    for (const args of [["topics", "list"], ["topics", "publish"], ["topics", "tail"], ["dlq", "list"], ["dlq", "redrive"]]) {
      const run = await runFerry([...args, "--help"]);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout).toContain("Examples:");
      expect(run.stdout).toContain(`ferry ${args.join(" ")} `);
    }
    const top = await runFerry(["--help"]);
    expect(top.stdout).toMatch(/^\s+topics\b/m);
    expect(top.stdout).toMatch(/^\s+dlq\b/m);
  }, 90_000);
});

describe("topics helpers", () => {
  it("parseFrom reads beginning, sequences, ISO times and durations ago", () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    expect(parseFrom(undefined)).toEqual({ kind: "new" });
    expect(parseFrom("beginning")).toEqual({ kind: "beginning" });
    expect(parseFrom("42")).toEqual({ kind: "sequence", sequence: "42" });
    expect(parseFrom("1700000000000-3")).toEqual({ kind: "sequence", sequence: "1700000000000-3" });
    expect(parseFrom("2026-12-01T10:00:00Z")).toEqual({ kind: "time", timeMs: Date.UTC(2026, 11, 1, 10) });
    expect(parseFrom("15m", now)).toEqual({ kind: "time", timeMs: now - 15 * 60_000 });
    expect(() => parseFrom("soon")).toThrow(CliUsageError);
  });

  it("parseHeaderFlags lower-cases keys and trims values", () => {
    expect(parseHeaderFlags(["Region: eu", "x-trace:  abc "])).toEqual({ region: "eu", "x-trace": "abc" });
    expect(() => parseHeaderFlags(["bad key: v"])).toThrow(CliUsageError);
  });

  it("describePayload decodes with a type, else shows base64 and JSON when the bytes are JSON", () => {
    const bytes = toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "hi" }));
    expect(describePayload(bytes, EchoRequestSchema)).toEqual({ payloadBytes: bytes.byteLength, type: "ferry.test.v1.EchoRequest", message: { text: "hi" } });
    const json = new TextEncoder().encode('{"a":1}');
    expect(describePayload(json, undefined)).toEqual({ payloadBytes: 7, payloadBase64: "eyJhIjoxfQ==", payloadJson: { a: 1 } });
    expect(describePayload(new Uint8Array([0xff, 0x01]), undefined)).toEqual({ payloadBytes: 2, payloadBase64: "/wE=" });
    const wrong = describePayload(new Uint8Array([0xff, 0xff]), EchoRequestSchema);
    expect(wrong.decodeError).toMatch(/cannot decode ferry\.test\.v1\.EchoRequest/);
    expect(wrong.payloadBase64).toBe("//8=");
  });
});
