/**
 * The CLI's pure parts, in-process: durations, method names, JSON value
 * splitting, latency percentiles and histogram, and the .proto printer on
 * descriptors compiled by buf (--proto).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileRegistry } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliUsageError } from "../../src/cli/cli-error.js";
import { parseDurationMs, parseIntegerFlag } from "../../src/cli/duration.js";
import { parseHeaderFlags } from "../../src/cli/header-flags.js";
import { JsonValueSplitter, parseJsonValues } from "../../src/cli/json-values.js";
import { LatencyHistogram } from "../../src/cli/latency-histogram.js";
import { parseMethodRef } from "../../src/cli/method-ref.js";
import { compileProtos } from "../../src/cli/proto-source.js";
import { printEnum, printMessage, printService } from "../../src/cli/proto-printer.js";

describe("parseDurationMs", () => {
  it.each([["250ms", 250], ["5s", 5000], ["1.5s", 1500], ["1m", 60_000], ["2h", 7_200_000], ["3", 3000], [".5s", 500]])("%s is %d ms", (text, ms) => {
    expect(parseDurationMs(text, "--timeout")).toBe(ms);
  });

  it.each(["", "soon", "5 s", "-1s", "0s", "1d", "1e3ms"])("rejects %j with a usage error naming the flag", (text) => {
    expect(() => parseDurationMs(text, "-z")).toThrow(CliUsageError);
    expect(() => parseDurationMs(text, "-z")).toThrow(/^-z: bad duration/);
  });

  it("parseIntegerFlag takes whole numbers in range only", () => {
    expect(parseIntegerFlag("64", "-c", 1, 1000)).toBe(64);
    for (const bad of ["0", "1001", "1.5", "x", "-3", ""]) expect(() => parseIntegerFlag(bad, "-c", 1, 1000)).toThrow(CliUsageError);
  });
});

describe("parseMethodRef", () => {
  it.each(["shop.v1.Cart/Get", "/shop.v1.Cart/Get", "shop.v1.Cart.Get", " shop.v1.Cart/Get "])("reads %j", (text) => {
    expect(parseMethodRef(text)).toEqual({ service: "shop.v1.Cart", method: "Get" });
  });

  it.each(["Get", "/Get", "shop.v1.Cart/", "shop..Cart/Get", "shop.v1.Cart/Get/X", "a b/C"])("rejects %j", (text) => {
    expect(() => parseMethodRef(text)).toThrow(CliUsageError);
  });
});

describe("parseHeaderFlags", () => {
  it("lower-cases keys, trims values, keeps repeats and decodes -bin values", () => {
    const md = parseHeaderFlags(["X-Trace: abc ", "x-trace:def", "x-raw-bin: AAEC"]);
    expect(md.getAll("x-trace")).toEqual(["abc", "def"]);
    expect(md.get("x-raw-bin")).toEqual(new Uint8Array([0, 1, 2]));
  });

  it.each(["novalue", ": v", "bad key: v", "x-bin: @@@"])("rejects %j", (flag) => {
    expect(() => parseHeaderFlags([flag])).toThrow(CliUsageError);
  });
});

describe("JsonValueSplitter", () => {
  it("splits JSON lines, concatenated and pretty-printed objects, with braces inside strings", () => {
    expect(parseJsonValues('{"a":1}\n{"b":"}{"} {\n "c": [1, {"d": "\\"}"}]\n}[2]')).toEqual([{ a: 1 }, { b: "}{" }, { c: [1, { d: '"}' }] }, [2]]);
  });

  it("returns each value as soon as its chunk completes it", () => {
    const s = new JsonValueSplitter();
    expect(s.push('{"a":')).toEqual([]);
    expect(s.push('1}\n{"b"')).toEqual([{ a: 1 }]);
    expect(s.push(":2}")).toEqual([{ b: 2 }]);
    expect(s.push(" 42")).toEqual([]);
    expect(s.end()).toEqual([42]);
  });

  it("rejects invalid JSON and input that ends inside a value", () => {
    expect(() => parseJsonValues("{nope}")).toThrow(SyntaxError);
    expect(() => parseJsonValues('{"a": [1')).toThrow(/unexpected end/);
  });
});

describe("LatencyHistogram", () => {
  it("answers nearest-rank percentiles, extremes and average", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    expect(h.summary()).toEqual({ count: 1000, fastestMs: 1, slowestMs: 1000, averageMs: 500.5, p50Ms: 500, p90Ms: 900, p99Ms: 990, p999Ms: 999 });
  });

  it("splits fastest–slowest into ten buckets whose counts add up, each including its upper bound", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i <= 100; i++) h.record(i);
    const buckets = h.histogram();
    expect(buckets).toHaveLength(10);
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(101);
    expect(buckets[0]).toEqual({ upToMs: 10, count: 11 });
    expect(buckets[9]).toEqual({ upToMs: 100, count: 10 });
  });

  it("is empty-safe and keeps memory bounded past maxSamples", () => {
    expect(new LatencyHistogram().summary().count).toBe(0);
    expect(new LatencyHistogram().histogram()).toEqual([]);
    const h = new LatencyHistogram(100);
    for (let i = 0; i < 10_000; i++) h.record(i % 10);
    expect(h.summary()).toMatchObject({ count: 10_000, fastestMs: 0, slowestMs: 9, averageMs: 4.5 });
    expect(h.histogram().reduce((n, b) => n + b.count, 0)).toBe(10_000);
  });
});

describe("the .proto printer, on files compiled with buf", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ferry-cli-printer-"));
  let registry: FileRegistry;

  beforeAll(async () => {
    writeFileSync(
      join(dir, "kinds.proto"),
      `syntax = "proto3";
package demo.v1;
import "google/protobuf/timestamp.proto";
message Thing {
  enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; }
  message Part { string id = 1; }
  string name = 1;
  optional int32 size = 2;
  repeated Part parts = 3;
  map<string, int64> counts = 4;
  oneof choice { string text = 5; Color color = 6; }
  google.protobuf.Timestamp at = 7;
}
service Things {
  rpc Get(Thing) returns (Thing);
  rpc Watch(Thing) returns (stream Thing);
  rpc Upload(stream Thing.Part) returns (Thing);
  rpc Chat(stream Thing) returns (stream Thing);
}
`,
    );
    writeFileSync(join(dir, "legacy.proto"), `syntax = "proto2";\npackage demo.v1;\nmessage Legacy { required string id = 1; optional int32 n = 2; repeated bool flags = 3; }\n`);
    ({ registry } = await compileProtos([join(dir, "kinds.proto"), join(dir, "legacy.proto")], []));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints fields with labels, maps, oneofs, nested types and well-known types", () => {
    expect(printMessage(registry.getMessage("demo.v1.Thing")!)).toBe(`message Thing {
  string name = 1;
  optional int32 size = 2;
  repeated demo.v1.Thing.Part parts = 3;
  map<string, int64> counts = 4;
  oneof choice {
    string text = 5;
    demo.v1.Thing.Color color = 6;
  }
  google.protobuf.Timestamp at = 7;
  enum Color {
    COLOR_UNSPECIFIED = 0;
    COLOR_RED = 1;
  }
  message Part {
    string id = 1;
  }
}`);
  });

  it("prints proto2 labels", () => {
    expect(printMessage(registry.getMessage("demo.v1.Legacy")!)).toBe("message Legacy {\n  required string id = 1;\n  optional int32 n = 2;\n  repeated bool flags = 3;\n}");
  });

  it("prints every method kind and enums", () => {
    expect(printService(registry.getService("demo.v1.Things")!)).toBe(`service Things {
  rpc Get(demo.v1.Thing) returns (demo.v1.Thing);
  rpc Watch(demo.v1.Thing) returns (stream demo.v1.Thing);
  rpc Upload(stream demo.v1.Thing.Part) returns (demo.v1.Thing);
  rpc Chat(stream demo.v1.Thing) returns (stream demo.v1.Thing);
}`);
    expect(printEnum(registry.getEnum("demo.v1.Thing.Color")!)).toBe("enum Color {\n  COLOR_UNSPECIFIED = 0;\n  COLOR_RED = 1;\n}");
  });
});
